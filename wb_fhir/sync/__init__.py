"""Sync with FHIR servers: HTTP client, auth, outbox, push, pull and the server check.

The names load on first use (:mod:`wb_fhir._lazy`): the outbox alone never loads the HTTP client.
"""

from wb_fhir import _lazy

TYPE_CHECKING = False
if TYPE_CHECKING:
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
del TYPE_CHECKING

__getattr__, __dir__ = _lazy.exports(
    __name__,
    {
        "wb_fhir.sync.auth": ("Auth", "BearerAuth", "SmartBackendAuth", "SmartKey"),
        "wb_fhir.sync.client": (
            "Deadline",
            "FhirClient",
            "Limits",
            "RawAnswer",
            "RetryPolicy",
            "Timeouts",
            "bundle_is_idempotent",
            "missing_capabilities",
        ),
        "wb_fhir.sync.outbox": ("Health", "Item", "Outbox", "State", "repair"),
        "wb_fhir.sync.push": ("FlushReport", "PushResult", "flush", "guard", "send_bundle"),
    },
)

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
