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
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from wb_fhir.errors import AuthError, ConflictError, ServerError
from wb_fhir.fhir.references import Search, Token
from wb_fhir.sync.client import FhirClient
from wb_fhir.sync.outbox import Item, Outbox, Seen, State
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
    by_type: dict[str, dict[Token, Target]] = {}
    for t in targets:
        by_type.setdefault(t.resource_type, {})[t.token] = t
    searches = [Search(rtype).where(identifier=sorted(wanted)).count(100) for rtype, wanted in by_type.items()]
    for (rtype, wanted), resources in zip(by_type.items(), client.search_each(searches), strict=True):
        for resource in resources:
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
    targets = [t for t in map(entry_target, bundle.get("entry", [])) if t is not None]
    return _guard(client, bundle, _seen(outbox, client.base_url, targets), force=force)


def _seen(outbox: Outbox, server: str, targets: Iterable[Target]) -> dict[Target, Seen | None]:
    """The versions this machine last saw of these resources on the server."""
    return {t: outbox.seen(server, t.resource_type, t.identifier) for t in targets}


def _guard(
    client: FhirClient, bundle: dict[str, Any], seen_before: Mapping[Target, Seen | None], *, force: bool
) -> tuple[dict[str, Any], dict[Target, Seen]]:
    # :func:`guard` with the versions seen read beforehand: a worker thread never opens the outbox
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
        seen = seen_before.get(target)
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


@dataclass(frozen=True)
class _Sent:
    """What one transaction did: the counts, and the versions to remember (type, identifier, id, version)."""

    created: int
    updated: int
    unchanged: int
    seen: list[tuple[str, str, str, str]]


class RaceError(ConflictError):
    """The server refused a transaction because another write to the same resources came first.

    Nothing of the transaction was written (it is atomic); sent again, it is checked afresh: it
    goes through when what won the race holds the same, and is refused as a conflict when not.
    """

    setting = "race"


def _transact(
    client: FhirClient, bundle: dict[str, Any], seen_before: Mapping[Target, Seen | None], *, force: bool
) -> _Sent:
    """Guard and send one Bundle (network only: the outbox is read before and written after)."""
    bundle, _ = _guard(client, bundle, seen_before, force=force)
    targets = [entry_target(e) for e in bundle.get("entry", [])]
    try:
        answer = client.transaction(bundle)
    except ConflictError as exc:
        # The guard found no conflict a moment ago: a write racing ours won (HAPI answers 409, with
        # HAPI-0550 when two creations of one resource meet; 412 when our If-Match is stale).
        if exc.status == 409 or (exc.status == 412 and any("ifMatch" in e["request"] for e in bundle["entry"])):
            log.debug("transaction refused as a race: %s", exc)
            raise RaceError(
                "another push wrote the same records at the same moment and the server refused this one "
                f"({exc.status}); nothing of this map was written",
                status=exc.status,
                outcome=exc.outcome,
            ) from exc
        raise
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
        previous = seen_before.get(target) if target is not None else None
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
    return _Sent(created, updated, unchanged, seen)


def send_bundle(client: FhirClient, outbox: Outbox, item: Item, *, force: bool = False) -> PushResult:
    """Send one outbox item's Bundle as a transaction; record what the server now holds."""
    targets = [t for t in map(entry_target, item.bundle.get("entry", [])) if t is not None]
    sent = _transact(client, item.bundle, _seen(outbox, client.base_url, targets), force=force)
    return _recorded(outbox, client.base_url, item, sent)


def _recorded(outbox: Outbox, server: str, item: Item, sent: _Sent) -> PushResult:
    outbox.record_seen(server, sent.seen)
    log.info(
        "outbox item %d sent: %d created, %d updated, %d unchanged", item.id, sent.created, sent.updated, sent.unchanged
    )
    return PushResult(item.id, item.map_id, item.map_date, sent.created, sent.updated, sent.unchanged)


# --- many maps ----------------------------------------------------------------------------


def person_of(item: Item) -> str:
    """Whose map an item writes (their CarePlan's identifier): one person's maps go one at a time, in order."""
    for entry in item.bundle.get("entry", []):
        target = entry_target(entry)
        if target is not None and target.resource_type == "CarePlan":
            return target.identifier
    return f"map {item.map_id}"


@dataclass
class _Held:
    item: Item
    person: str


def flush(
    client: FhirClient,
    outbox: Outbox,
    *,
    only: Iterable[int] | None = None,
    force: bool = False,
    progress: Callable[[Item], None] | None = None,
    jobs: int = 1,
    connect: Callable[[], FhirClient] | None = None,
    items: Iterable[int] | None = None,
) -> FlushReport:
    """Send pending items in the order they were stored (all, or only those named).

    A refused item (conflict, invalid) becomes failed and the next is sent; one that lost a race
    with another push (:class:`RaceError`) stays pending for the next push, and so do the later
    maps of that person (their order holds); trouble with the network, the server or the
    credentials stops the flush and leaves the rest pending.

    Items are read one at a time, when their turn comes: memory does not grow with the outbox.
    ``jobs`` transactions go at once, each worker with its own client from ``connect`` (needed
    when ``jobs`` > 1); one person's maps go one after another, in order, as their plan and
    goals carry the version the previous map left. ``items`` are the ids to send, in order
    (default: every pending item); an iterator is read as the flush goes, so a push can queue
    maps while the first ones are sent.
    """
    if jobs > 1 and connect is None:
        raise ValueError("sending with more than one job needs connect, to give each worker its own client")
    wanted = set(only) if only is not None else None
    order = iter(items if items is not None else outbox.pending_ids())
    report = FlushReport()
    window = max(1, jobs) * 4
    held: list[_Held] = []
    taken: set[int] = set()
    busy: set[str] = set()
    waiting: set[str] = set()  # people whose earlier map stays pending: their later ones wait too
    stop = False

    def fill() -> None:
        while not stop and len(held) + len(busy) < window:
            item_id = next(order, None)
            if item_id is None:
                return
            if item_id in taken or (wanted is not None and item_id not in wanted):
                continue
            taken.add(item_id)
            item = outbox.pending_item(item_id)
            if item is not None:
                held.append(_Held(item, person_of(item)))

    def ready() -> _Held | None:
        held[:] = [h for h in held if h.person not in waiting]
        for h in held:  # oldest first, but never two maps of one person at once
            if h.person not in busy:
                held.remove(h)
                busy.add(h.person)
                return h
        return None

    def finish(h: _Held, outcome: _Sent | ServerError) -> bool:
        """Record one outcome; False when the flush must stop."""
        busy.discard(h.person)
        try:
            if isinstance(outcome, _Sent):
                report.sent.append(_recorded(outbox, client.base_url, h.item, outcome))
                outbox.mark_sent(h.item.id)
                return True
            go_on = _failed(outbox, report, h.item, outcome)
            if report.failed[-1].kept:
                waiting.add(h.person)  # never a later map of theirs before this one
            return go_on
        finally:
            if progress is not None:
                progress(h.item)

    if jobs <= 1:
        fill()
        while not stop and (h := ready()) is not None:
            stop = not finish(h, _attempt(client, outbox, h.item, force))
            fill()
    else:
        from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

        local = threading.local()

        def work(item: Item, seen_before: dict[Target, Seen | None]) -> _Sent | ServerError:
            if not hasattr(local, "client"):
                assert connect is not None
                local.client = connect()  # one session per worker
            try:
                return _transact(local.client, item.bundle, seen_before, force=force)
            except ServerError as exc:
                return exc

        running: dict[Future[_Sent | ServerError], _Held] = {}
        with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="wb-fhir-push") as pool:
            fill()
            while True:
                while not stop and len(running) < jobs and (h := ready()) is not None:
                    targets = [t for t in map(entry_target, h.item.bundle.get("entry", [])) if t is not None]
                    running[pool.submit(work, h.item, _seen(outbox, client.base_url, targets))] = h
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=lambda f: running[f].item.id):
                    if not finish(running.pop(future), future.result()):
                        stop = True
                fill()
    report.waiting = outbox.count(State.PENDING)
    return report


def _attempt(client: FhirClient, outbox: Outbox, item: Item, force: bool) -> _Sent | ServerError:
    targets = [t for t in map(entry_target, item.bundle.get("entry", [])) if t is not None]
    try:
        return _transact(client, item.bundle, _seen(outbox, client.base_url, targets), force=force)
    except ServerError as exc:
        return exc


def _failed(outbox: Outbox, report: FlushReport, item: Item, exc: ServerError) -> bool:
    """Record a failure; False when the flush must stop (network, server or credentials)."""
    message = Scrubber(personal_values(item.bundle))(str(exc))
    if isinstance(exc, RaceError):
        # pending still (unless a push that raced ours has sent this very item meanwhile)
        if outbox.pending_item(item.id) is not None:
            outbox.mark_attempt(item.id, message)
        report.failed.append(Failure(item.id, item.map_date, message, kept=True, setting=exc.setting))
        log.info("outbox item %d lost a race with another push; kept for the next", item.id)
        return True
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
        return True
    outbox.mark_attempt(item.id, message)
    report.failed.append(Failure(item.id, item.map_date, message, kept=True, setting=exc.setting))
    log.info("outbox item %d kept for later (%s)", item.id, type(exc).__name__)
    return False
