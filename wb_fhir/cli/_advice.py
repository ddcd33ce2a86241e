"""Advice for the errors of the library: it names a setting, the command line names the flag."""

from __future__ import annotations

ADVICE: dict[str, str] = {
    "allow_insecure_http": "use --allow-insecure-http only on a network you trust",
    "ca_bundle": "give the trust's CA certificates with --ca-bundle",
    "date": "give a later date with --date",
    "force": "pull the person's record again (wb-fhir pull) and redo the change, or push with --force to overwrite",
    "nhs_number": "check the NHS number given with --patient",
    "race": "push again, or run 'wb-fhir outbox flush': it is checked afresh and sent",
    "smart_client_id": "give the client id with --smart-client-id",
    "smart_kid": "give the key id with --smart-kid",
    "smart_token_url": "give the token endpoint with --smart-token-url",
    "test_patient": "give --allow-writes with --test-patient NHS, the NHS number of an existing test patient",
}
"""Setting named by an error -> what to do on the command line."""


def advice(setting: str | None) -> str | None:
    """The advice for a setting, if the command line has any."""
    return ADVICE.get(setting) if setting else None


def with_advice(message: str, setting: str | None) -> str:
    """The message, and on its own line the advice for the setting its error named."""
    hint = advice(setting)
    return f"{message}\nhint: {hint}" if hint else message
