"""Shared pytest configuration: the HAPI FHIR test server plugin lives in fhir_server.py."""

pytest_plugins = ["fhir_server"]
