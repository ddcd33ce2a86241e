"""Advice for the errors of the library: it names a setting, the command line names the flag."""

from __future__ import annotations

ADVICE: dict[str, str] = {
    "allow_insecure_http": "use --allow-insecure-http only on a network you trust",
    "ca_bundle": "give the trust's CA certificates with --ca-bundle",
    "command_deadline": "give the whole command more time with --command-deadline SECONDS (0: no limit)",
    "deadline": "give one request more time with --deadline SECONDS",
    "max_response": "if the server's answers are that large by right, raise the cap with --max-response-mb MB",
    "date": "give a later date with --date",
    "force": "pull the person's record again (wb-fhir pull) and redo the change, or push with --force to overwrite",
    "nhs_number": "check the NHS number given with --patient",
    "outbox_damaged": "'wb-fhir outbox check' says what is wrong; 'wb-fhir outbox check --repair' moves the damaged "
    "file aside (nothing is deleted) and starts a new outbox with all that can still be read",
    "race": "push again, or run 'wb-fhir outbox flush': it is checked afresh and sent",
    "smart_client_id": "give the client id with --smart-client-id",
    "smart_key_mode": "make the key readable by its owner only (chmod 600 KEY), or give --allow-shared-key",
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
