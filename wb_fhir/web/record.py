"""Where a saved map goes besides the app's own store: nowhere (embedded), or a FHIR server.

With a server, every save goes through the sync layer exactly as ``wb-fhir push`` does: the
map's transaction Bundle lands in the outbox first (committed), then is sent; a plan or goal
changed elsewhere is refused as a conflict and nothing is overwritten; a server or network
failure leaves the map waiting in the outbox. Opening a person pulls their maps (as
``wb-fhir pull`` does, which also records the versions seen for the conflict check).

All use of ``wb_fhir.sync`` by the web app is in this module.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from wb_fhir.bundles import map_bundle
from wb_fhir.errors import ConflictError, ServerError
from wb_fhir.mapfile import load_map
from wb_fhir.model import WellbeingMap
from wb_fhir.sync import FhirClient, Outbox, send_bundle
from wb_fhir.sync.pull import pull
from wb_fhir.sync.scrub import Scrubber, personal_values
from wb_fhir.web.session import Session

log = logging.getLogger(__name__)


class Sent(StrEnum):
    """What happened to a saved map beyond the app's own store."""

    KEPT_HERE = "kept-here"
    """No server: the map is kept in this app's store only."""
    SENT = "sent"
    QUEUED = "queued"
    """The server could not be reached or failed: the map waits in the outbox."""
    CONFLICT = "conflict"
    REFUSED = "refused"


@dataclass(frozen=True)
class Outcome:
    """The outcome of sending one saved map, in plain words."""

    state: Sent
    message: str
    detail: str = ""


class Recorder:
    """Keeps saved maps here only (the embedded default)."""

    server: str | None = None

    def send(self, wmap: WellbeingMap, session: Session) -> Outcome:
        """Send a saved, checked map on (here: nowhere)."""
        return Outcome(Sent.KEPT_HERE, "Saved on this computer.")

    def fetch(self, nhs_number: str, session: Session) -> list[WellbeingMap]:
        """The person's maps in the record (here: none, the app's store is the record)."""
        return []


class FhirRecorder(Recorder):
    """Writes saved maps to a FHIR server through the outbox, and reads the person's maps from it.

    ``client`` makes the client for a session, each time one is needed: one client for all
    (``wb-fhir serve --server``), or each session's own (an EHR launch's token, kept on the
    server side). ``server`` is the server's base URL, for the pages to say where maps go.
    """

    def __init__(self, client: Callable[[Session], FhirClient], outbox_path: Path | None, server: str) -> None:
        self._client = client
        self._outbox_path = outbox_path
        self.server = server

    def send(self, wmap: WellbeingMap, session: Session) -> Outcome:
        bundle = map_bundle(wmap)
        with Outbox(self._outbox_path) as outbox:
            item = outbox.add(bundle, map_id=wmap.id, map_date=wmap.date.isoformat())
            scrub = Scrubber(personal_values(bundle))
            try:
                result = send_bundle(self._client(session), outbox, item)
            except ConflictError as exc:
                outbox.mark_failed(item.id, scrub(str(exc)))
                log.info("outbox item %d refused: conflict", item.id)
                return Outcome(
                    Sent.CONFLICT,
                    "Not sent: someone else changed this person's plan or goals in the record since you opened it. "
                    "Nothing there was overwritten. Open the person again to see their changes, then redo yours.",
                    _changes_only(str(exc)),
                )
            except ServerError as exc:
                refused = exc.status is not None and 400 <= exc.status < 500 and exc.status not in (401, 403, 408, 429)
                if refused:
                    outbox.mark_failed(item.id, scrub(str(exc)))
                    return Outcome(Sent.REFUSED, "Saved here, but the record refused it.", scrub(str(exc)))
                outbox.mark_attempt(item.id, scrub(str(exc)))
                return Outcome(
                    Sent.QUEUED,
                    "Saved here. The record could not be reached; the map waits in the outbox and is sent later.",
                )
            outbox.mark_sent(item.id)
        log.info("outbox item %d sent from the web app", result.item_id)
        return Outcome(Sent.SENT, "Saved, and written to the care record.")

    def fetch(self, nhs_number: str, session: Session) -> list[WellbeingMap]:
        with tempfile.TemporaryDirectory(prefix="wb-fhir-web-") as tmp, Outbox(self._outbox_path) as outbox:
            report = pull(self._client(session), outbox, nhs_number, Path(tmp))
            return [load_map(p) for p in report.maps]


def _changes_only(message: str) -> str:
    """The lines of a conflict message that say what changed (not the command-line advice)."""
    lines = [line.strip() for line in message.splitlines() if line.startswith("  ")]
    return "\n".join(lines)
