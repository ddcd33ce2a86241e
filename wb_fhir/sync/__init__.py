"""Sync with FHIR servers: HTTP client, auth, outbox, push, pull and the server check."""

from wb_fhir.sync.auth import Auth, BearerAuth, SmartBackendAuth, SmartKey
from wb_fhir.sync.client import (
    Deadline,
    FhirClient,
    Limits,
    RawAnswer,
    RetryPolicy,
    Timeouts,
    bundle_is_idempotent,
    missing_capabilities,
)
from wb_fhir.sync.outbox import Health, Item, Outbox, State, repair
from wb_fhir.sync.push import FlushReport, PushResult, flush, guard, send_bundle

__all__ = [
    "Auth",
    "BearerAuth",
    "Deadline",
    "FhirClient",
    "FlushReport",
    "Health",
    "Item",
    "Limits",
    "Outbox",
    "PushResult",
    "RawAnswer",
    "RetryPolicy",
    "SmartBackendAuth",
    "SmartKey",
    "State",
    "Timeouts",
    "bundle_is_idempotent",
    "flush",
    "guard",
    "missing_capabilities",
    "repair",
    "send_bundle",
]
