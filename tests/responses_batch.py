"""Batches of searches under ``responses``: each search answered by the GET registered for it.

A push asks for the records it guards in one batch of searches (``FhirClient.search_each``).
Tests register those searches as GETs, as before; :func:`answer_batches` answers a batch by
sending each of its searches through the same registry. A test's own answers to the
transaction are registered with ``match=[is_transaction]``, as ``responses`` would otherwise take
a batch for the transaction (and use up one of the two answers matching it).
"""

from __future__ import annotations

import json
import re
from typing import Any

import requests
import responses

FHIR = {"Content-Type": "application/fhir+json"}


def _bundle_type(request: Any) -> str | None:
    try:
        return json.loads(request.body or b"{}").get("type")
    except ValueError:
        return None


def is_transaction(request: Any) -> tuple[bool, str]:
    """A matcher: the request posts a transaction Bundle."""
    return _bundle_type(request) == "transaction", "not a transaction"


def is_batch(request: Any) -> tuple[bool, str]:
    """A matcher: the request posts a batch Bundle."""
    return _bundle_type(request) == "batch", "not a batch"


def answer_batches(base: str) -> None:
    """Answer batches posted to ``base`` entry by entry, from the GETs registered for them."""

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        entries = []
        for entry in json.loads(request.body)["entry"]:
            got = requests.get(f"{base}/{entry['request']['url']}", timeout=10)
            entries.append({"resource": got.json(), "response": {"status": f"{got.status_code} {got.reason}"}})
        return 200, FHIR, json.dumps({"resourceType": "Bundle", "type": "batch-response", "entry": entries})

    # a pattern, not the URL text: removing a test's POST of that URL leaves this one in place
    responses.add_callback(responses.POST, re.compile(re.escape(base) + "/?$"), callback=answer, match=[is_batch])
