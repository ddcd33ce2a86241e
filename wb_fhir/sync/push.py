"""Push maps to a FHIR server through the outbox: one transaction per map, conflicts refused.

The flow of one map: its transaction Bundle is stored in the outbox (committed), then sent.
Before sending, the per-person CarePlan and the Goals in the Bundle are read from the server
by business identifier. When one exists and its version is not the one this machine last saw
(by pull or push), someone else changed it: unless what the server holds already equals what
we would write (our own earlier push that was cut off before we recorded it), the push is
refused with a :class:`~wb_fhir.errors.ConflictError` naming the resource, both versions and
the fields that differ. Otherwise those entries become ``PUT Type/id`` with
``request.ifMatch``, so that a change racing ours is refused by the server too (409 or 412).

Created, updated and unchanged come from the transaction-response: ``201`` is created; ``200``
is unchanged when the version is the one we last saw, or is still 1 (a server that does not
bump the version for identical content, as HAPI does for conditional updates), else updated.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from wb_fhir.errors import AuthError, ConflictError, ServerError
from wb_fhir.fhir.references import Search, Token
from wb_fhir.sync.client import FhirClient
from wb_fhir.sync.outbox import Item, Outbox, Seen
from wb_fhir.sync.scrub import Scrubber, personal_values

log = logging.getLogger(__name__)

GUARDED_TYPES = ("CarePlan", "Goal", "ServiceRequest")
"""Resources that people edit elsewhere too: never overwritten without knowing their version."""

_IGNORED_FIELDS = frozenset({"id", "meta"})


@dataclass(frozen=True)
class PushResult:
    """What one map's transaction did on the server."""

    item_id: int
    map_id: str
    map_date: str | None
    created: int
    updated: int
    unchanged: int


@dataclass(frozen=True)
class Failure:
    """An outbox item the server refused, or could not take now."""

    item_id: int
    map_date: str | None
    message: str
    kept: bool
    """True: still pending (network, server or auth trouble); False: failed (refused)."""
    setting: str | None = None
    """The setting that would help, as the error named it (``force`` for a conflict)."""


@dataclass
class FlushReport:
    """The outcome of sending the outbox."""

    sent: list[PushResult] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    waiting: int = 0
    """Items still pending after the flush."""

    @property
    def totals(self) -> tuple[int, int, int]:
        """Resources created, updated and unchanged over all maps sent."""
        return (
            sum(r.created for r in self.sent),
            sum(r.updated for r in self.sent),
            sum(r.unchanged for r in self.sent),
        )


@dataclass(frozen=True)
class Target:
    """A Bundle entry's resource, by type and business identifier."""

    resource_type: str
    token: Token

    @property
    def identifier(self) -> str:
        """The identifier as the outbox keeps it (``system|value``)."""
        return str(self.token)


def entry_target(entry: Mapping[str, Any]) -> Target | None:
    """The business identifier an entry writes by (its conditional URL, else its resource)."""
    request = entry.get("request", {})
    url = str(request.get("url", ""))
    resource = entry.get("resource", {})
    rtype = url.split("?", 1)[0].split("/", 1)[0] or resource.get("resourceType", "")
    query = urlsplit(url).query or str(request.get("ifNoneExist", ""))
    for value in parse_qs(query).get("identifier", []):
        token = Token.parse(value)
        if token is not None:
            return Target(rtype, token)
    identifiers = resource.get("identifier", [])
    for token in map(Token.of, identifiers if isinstance(identifiers, list) else []):
        if token is not None:
            return Target(rtype, token)
    return None


# --- comparing what we write with what the server holds --------------------------------


def differing_fields(ours: Mapping[str, Any], theirs: Mapping[str, Any], types: Mapping[str, str]) -> list[str]:
    """Top-level fields whose content differs, references compared by resource type only.

    ``types`` maps a Bundle's ``urn:uuid:`` fullUrls to resource types: inside the Bundle our
    references are ``urn:uuid:`` or conditional, on the server they are ``Type/id``.
    """
    keys = (set(ours) | set(theirs)) - _IGNORED_FIELDS
    return sorted(k for k in keys if _norm(ours.get(k), types) != _norm(theirs.get(k), types))


def _norm(node: Any, types: Mapping[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                out[key] = _ref_type(value, types)
            elif key == "div" and isinstance(value, str):
                out[key] = _norm_xhtml(value)
            else:
                out[key] = _norm(value, types)
        return out
    if isinstance(node, list):
        return [_norm(v, types) for v in node]
    if isinstance(node, float) and node.is_integer():
        return int(node)
    return node


def _ref_type(reference: str, types: Mapping[str, str]) -> str:
    if reference in types:
        return types[reference]
    path = reference.split("?", 1)[0].rstrip("/").split("/_history/")[0]
    parts = path.split("/")
    return parts[-2] if len(parts) >= 2 else parts[0]


def _norm_xhtml(div: str) -> str:
    # Servers re-serialise narrative XHTML (entities, quoting, empty tags, spacing).
    text = html.unescape(div)
    text = re.sub(r"\s*/>", "/>", text)
    text = re.sub(r"\s+", " ", text)
    return re.sub(r">\s+<", "><", text).strip()


def _version(resource: Mapping[str, Any]) -> str:
    return str(resource.get("meta", {}).get("versionId", ""))


# --- one map ------------------------------------------------------------------------------


def _current(client: FhirClient, targets: list[Target]) -> dict[Target, dict[str, Any]]:
    found: dict[Target, dict[str, Any]] = {}
    by_type: dict[str, list[Target]] = {}
    for t in targets:
        by_type.setdefault(t.resource_type, []).append(t)
    for rtype, group in by_type.items():
        wanted = {t.token: t for t in group}
        for resource in client.search_all(Search(rtype).where(identifier=sorted(wanted)).count(100)):
            for key in map(Token.of, resource.get("identifier", [])):
                if key in wanted:
                    if wanted[key] in found:
                        raise ServerError(f"the server holds more than one {rtype} with the same business identifier")
                    found[wanted[key]] = resource
    return found


def guard(
    client: FhirClient, outbox: Outbox, bundle: dict[str, Any], *, force: bool = False
) -> tuple[dict[str, Any], dict[Target, Seen]]:
    """The Bundle to send, with ``ifMatch`` on the plan and goals; refused on a conflict.

    Also returns the versions of guarded resources as the server holds them now.
    """
    entries = bundle.get("entry", [])
    types = {e["fullUrl"]: e["resource"]["resourceType"] for e in entries if "fullUrl" in e and "resource" in e}
    guarded: list[tuple[int, Target]] = []
    for i, entry in enumerate(entries):
        target = entry_target(entry)
        if target is not None and target.resource_type in GUARDED_TYPES:
            guarded.append((i, target))
    if not guarded:
        return bundle, {}
    current = _current(client, [t for _, t in guarded])
    conflicts: list[str] = []
    now: dict[Target, Seen] = {}
    out = dict(bundle)
    out_entries = list(entries)
    for i, target in guarded:
        theirs = current.get(target)
        if theirs is None:
            continue
        version = _version(theirs)
        now[target] = Seen(str(theirs["id"]), version)
        ours = entries[i]["resource"]
        seen = outbox.seen(client.base_url, target.resource_type, target.identifier)
        changed = differing_fields(ours, theirs, types)
        if not force and changed and (seen is None or seen.version != version):
            what = f"this machine last saw version {seen.version}" if seen else "this machine has never seen it"
            conflicts.append(
                f"{target.resource_type}/{theirs['id']} was changed on the server by someone else "
                f"({what}; the server has version {version}); fields that differ from ours: {', '.join(changed)}"
            )
            continue
        entry = dict(entries[i])
        resource = dict(ours)
        resource["id"] = theirs["id"]
        entry["resource"] = resource
        entry["request"] = {
            "method": "PUT",
            "url": f"{target.resource_type}/{theirs['id']}",
            "ifMatch": f'W/"{version}"',
        }
        out_entries[i] = entry
    if conflicts:
        raise ConflictError(
            "refused to overwrite changes made elsewhere; nothing was written:\n"
            + "\n".join(f"  {c}" for c in conflicts)
        )
    out["entry"] = out_entries
    return out, now


def _location(entry: Mapping[str, Any]) -> tuple[str, str, str] | None:
    response = entry.get("response", {})
    location = str(response.get("location", ""))
    match = re.search(r"([A-Za-z]+)/([A-Za-z0-9\-.]{1,64})/_history/([A-Za-z0-9\-.]{1,64})", location)
    if match:
        return match.group(1), match.group(2), match.group(3)
    etag = re.search(r'"([^"]+)"', str(response.get("etag", "")))
    parts = location.split("?")[0].rstrip("/").split("/")
    if etag and len(parts) >= 2:
        return parts[-2], parts[-1], etag.group(1)
    return None


def send_bundle(client: FhirClient, outbox: Outbox, item: Item, *, force: bool = False) -> PushResult:
    """Send one outbox item's Bundle as a transaction; record what the server now holds."""
    bundle, _ = guard(client, outbox, item.bundle, force=force)
    targets = [entry_target(e) for e in bundle.get("entry", [])]
    before = {t: outbox.seen(client.base_url, t.resource_type, t.identifier) for t in targets if t is not None}
    answer = client.transaction(bundle)
    responses = answer.get("entry", [])
    if len(responses) != len(targets):
        raise ServerError(
            f"the transaction answer has {len(responses)} entries for {len(targets)} sent: not a transaction-response"
        )
    created = updated = unchanged = 0
    seen: list[tuple[str, str, str, str]] = []
    for target, response in zip(targets, responses, strict=True):
        status = str(response.get("response", {}).get("status", ""))
        where = _location(response)
        previous = before.get(target) if target is not None else None
        if status.startswith("201"):
            created += 1
        elif where is not None and (
            (previous is not None and previous.version == where[2]) or (previous is None and where[2] == "1")
        ):
            unchanged += 1
        else:
            updated += 1
        if target is not None and where is not None:
            seen.append((target.resource_type, target.identifier, where[1], where[2]))
    outbox.record_seen(client.base_url, seen)
    log.info("outbox item %d sent: %d created, %d updated, %d unchanged", item.id, created, updated, unchanged)
    return PushResult(item.id, item.map_id, item.map_date, created, updated, unchanged)


def flush(
    client: FhirClient,
    outbox: Outbox,
    *,
    only: Iterable[int] | None = None,
    force: bool = False,
    progress: Callable[[Item], None] | None = None,
) -> FlushReport:
    """Send pending items in the order they were stored (all, or only those named).

    A refused item (conflict, invalid) becomes failed and the next is sent; trouble with the
    network, the server or the credentials stops the flush and leaves the rest pending.
    """
    wanted = set(only) if only is not None else None
    report = FlushReport()
    items = [i for i in outbox.pending() if wanted is None or i.id in wanted]
    for item in _each(items, progress):
        try:
            report.sent.append(send_bundle(client, outbox, item, force=force))
            outbox.mark_sent(item.id)
        except ServerError as exc:
            message = Scrubber(personal_values(item.bundle))(str(exc))
            refused = isinstance(exc, ConflictError) or (
                not isinstance(exc, AuthError)
                and exc.status is not None
                and 400 <= exc.status < 500
                and exc.status not in (408, 429)
            )
            if refused:
                outbox.mark_failed(item.id, message)
                report.failed.append(Failure(item.id, item.map_date, message, kept=False, setting=exc.setting))
                log.info("outbox item %d refused by the server (%s)", item.id, type(exc).__name__)
                continue
            outbox.mark_attempt(item.id, message)
            report.failed.append(Failure(item.id, item.map_date, message, kept=True, setting=exc.setting))
            log.info("outbox item %d kept for later (%s)", item.id, type(exc).__name__)
            break
    report.waiting = len(outbox.pending())
    return report


def _each(items: list[Item], progress: Callable[[Item], None] | None) -> Iterator[Item]:
    for item in items:
        yield item
        if progress is not None:
            progress(item)
