"""Sync with FHIR servers: HTTP client, auth, outbox, push, pull and the server check.

The names load on first use (:mod:`wb_fhir._lazy`): the outbox alone never loads the HTTP client.
"""

from __future__ import annotations

from wb_fhir import _lazy

TYPE_CHECKING = False
if TYPE_CHECKING:
    from wb_fhir.sync.auth import Auth, BearerAuth, SmartBackendAuth, SmartKey
    from wb_fhir.sync.client import FhirClient, RetryPolicy, Timeouts, bundle_is_idempotent, missing_capabilities
    from wb_fhir.sync.outbox import Item, Outbox, State
    from wb_fhir.sync.push import FlushReport, PushResult, flush, guard, send_bundle
del TYPE_CHECKING

__getattr__, __dir__ = _lazy.exports(
    __name__,
    {
        "wb_fhir.sync.auth": ("Auth", "BearerAuth", "SmartBackendAuth", "SmartKey"),
        "wb_fhir.sync.client": (
            "FhirClient",
            "RetryPolicy",
            "Timeouts",
            "bundle_is_idempotent",
            "missing_capabilities",
        ),
        "wb_fhir.sync.outbox": ("Item", "Outbox", "State"),
        "wb_fhir.sync.push": ("FlushReport", "PushResult", "flush", "guard", "send_bundle"),
    },
)

__all__ = [
    "Auth",
    "BearerAuth",
    "FhirClient",
    "FlushReport",
    "Item",
    "Outbox",
    "PushResult",
    "RetryPolicy",
    "SmartBackendAuth",
    "SmartKey",
    "State",
    "Timeouts",
    "bundle_is_idempotent",
    "flush",
    "guard",
    "missing_capabilities",
    "send_bundle",
]
