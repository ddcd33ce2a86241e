"""Benchmarks of wb_fhir, side by side with what it is measured against: ``python -m benchmarks``."""
