"""The research export: maps, connections and ties, de-identified, as CSV, GraphML or Network Canvas CSV.

De-identified by construction: the rows come from the flat tables, which hold no name and no
NHS number; people, maps and connections are known by keyed-hash pseudonyms (HMAC-SHA256 with
a secret the user supplies, so the same person has the same pseudonym in every export made
with the same secret, and nobody without it can link a pseudonym to an NHS number); connection
ids (which people often write as names: ``mum``, ``sarah``) are replaced too, and labels are
left out unless asked for. Map dates, time at home and the coded fields are kept.

The export is written into a new folder beside the target and renamed into place at the end:
a reader sees no folder or the whole export, never a part.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import os
import shutil
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import groupby
from pathlib import Path
from typing import Any, TextIO

from wb_fhir.errors import InputError
from wb_fhir.report.queries import period_sql

FORMATS = ("csv", "graphml", "networkcanvas")
MIN_SECRET_BYTES = 16
GRAPHML_NS = "http://graphml.graphdrawing.org/xmlns"


class Pseudonyms:
    """Keyed-hash pseudonyms (HMAC-SHA256) for people, maps and connections."""

    def __init__(self, secret: bytes) -> None:
        if len(secret.strip()) < MIN_SECRET_BYTES:
            raise InputError(f"the export secret must be at least {MIN_SECRET_BYTES} bytes long")
        self._secret = secret.strip()

    def _hash(self, *parts: str) -> str:
        return hmac.new(self._secret, "\x1f".join(parts).encode("utf-8"), hashlib.sha256).hexdigest()[:20]

    def person(self, person: str) -> str:
        return "P" + self._hash("person", person)

    def map(self, map_id: str) -> str:
        return "M" + self._hash("map", map_id)

    def connection(self, person: str, connection_id: str) -> str:
        """The same connection of the same person has one pseudonym across their maps."""
        return "C" + self._hash("connection", person, connection_id)


@dataclass
class ExportResult:
    """What an export wrote."""

    folder: Path
    files: list[str] = field(default_factory=list)
    maps: int = 0
    connections: int = 0
    ties: int = 0


Rows = Callable[[str], Iterator[tuple[Any, ...]]]


def _queries(since: date | None, until: date | None) -> dict[str, str]:
    period = f"(SELECT * FROM maps WHERE {period_sql(since, until)})"
    return {
        "maps": f"""SELECT m.map_id, m.person, m.date, m.time_at_home,
                      sum(CASE WHEN c.status = 'current' THEN 1 ELSE 0 END) AS size
                    FROM {period} m LEFT JOIN connections c ON c.map_id = m.map_id
                    GROUP BY m.map_id, m.person, m.date, m.time_at_home ORDER BY m.map_id""",
        "connections": f"""SELECT c.map_id, m.person, c.key, c.connection_id, c.kind, c.category, c.ring, c.impact,
                             c.status, c.frequency, c.disclosure, c.label
                           FROM connections c JOIN {period} m ON m.map_id = c.map_id ORDER BY c.map_id, c.key""",
        "roles": f"""SELECT r.key, r.role FROM roles r JOIN connections c ON c.key = r.key
                     JOIN {period} m ON m.map_id = c.map_id ORDER BY r.key, r.role""",
        "ties": f"""SELECT t.map_id, m.person, t.from_id, t.to_id, t.type
                    FROM ties t JOIN {period} m ON m.map_id = t.map_id ORDER BY t.map_id, t.from_id, t.to_id""",
    }


# --- the rows, de-identified -----------------------------------------------------------------

MAP_COLUMNS = ("map", "person", "date", "time_at_home", "network_size")
CONNECTION_COLUMNS = (
    "map",
    "person",
    "connection",
    "kind",
    "category",
    "ring",
    "impact",
    "status",
    "frequency",
    "knows_about_mental_health",
    "roles",
)
TIE_COLUMNS = ("map", "person", "from", "to", "type")


@dataclass(frozen=True)
class _Export:
    rows: Rows
    names: Pseudonyms
    keep_labels: bool
    sql: dict[str, str]

    def maps(self) -> Iterator[dict[str, Any]]:
        for map_id, person, day, home, size in self.rows(self.sql["maps"]):
            yield {
                "map": self.names.map(map_id),
                "person": self.names.person(person),
                "date": day,
                "time_at_home": home,
                "network_size": int(size or 0),
            }

    def connections(self) -> Iterator[dict[str, Any]]:
        roles: dict[str, list[str]] = {}
        for key, role in self.rows(self.sql["roles"]):
            roles.setdefault(key, []).append(role)
        for map_id, person, key, cid, kind, category, ring, impact, status, freq, disclosure, label in self.rows(
            self.sql["connections"]
        ):
            row = {
                "map": self.names.map(map_id),
                "person": self.names.person(person),
                "connection": self.names.connection(person, cid or key),
                "kind": kind,
                "category": category,
                "ring": ring,
                "impact": impact,
                "status": status,
                "frequency": freq,
                "knows_about_mental_health": disclosure,
                "roles": ";".join(roles.get(key, [])),
            }
            if self.keep_labels:
                row["label"] = label
            yield row

    def ties(self) -> Iterator[dict[str, Any]]:
        for map_id, person, a, b, kind in self.rows(self.sql["ties"]):
            yield {
                "map": self.names.map(map_id),
                "person": self.names.person(person),
                "from": self.names.connection(person, a or ""),
                "to": self.names.connection(person, b or ""),
                "type": kind,
            }


# --- writers ---------------------------------------------------------------------------------


def _private_text(path: Path) -> TextIO:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return os.fdopen(fd, "w", encoding="utf-8", newline="")


def _write_csv(path: Path, columns: Iterable[str], rows: Iterable[dict[str, Any]]) -> int:
    n = 0
    with _private_text(path) as f:
        writer = csv.DictWriter(f, fieldnames=list(columns), extrasaction="raise", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
            n += 1
    return n


def _columns(base: tuple[str, ...], keep_labels: bool) -> tuple[str, ...]:
    return (*base, "label") if keep_labels else base


def _csv(export: _Export, folder: Path, result: ExportResult) -> None:
    result.maps = _write_csv(folder / "maps.csv", MAP_COLUMNS, export.maps())
    result.connections = _write_csv(
        folder / "nodes.csv", _columns(CONNECTION_COLUMNS, export.keep_labels), export.connections()
    )
    result.ties = _write_csv(folder / "edges.csv", TIE_COLUMNS, export.ties())
    result.files += ["maps.csv", "nodes.csv", "edges.csv"]


def _graphml(export: _Export, folder: Path, result: ExportResult) -> None:
    """One GraphML file per map: the person ("ego"), their connections, ego ties and ties."""
    graphs = folder / "graphml"
    graphs.mkdir(mode=0o700)
    connections = groupby(export.connections(), key=lambda r: r["map"])
    ties = groupby(export.ties(), key=lambda r: r["map"])
    pending_c = next(connections, None)
    pending_t = next(ties, None)
    for m in export.maps():
        nodes: list[dict[str, Any]] = []
        edges: list[dict[str, Any]] = []
        # All three streams are in map id order, and connections and ties belong to listed maps.
        if pending_c is not None and pending_c[0] == m["map"]:
            nodes = list(pending_c[1])
            pending_c = next(connections, None)
        if pending_t is not None and pending_t[0] == m["map"]:
            edges = list(pending_t[1])
            pending_t = next(ties, None)
        tree = graphml_tree(m, nodes, edges, keep_labels=export.keep_labels)
        ET.indent(tree)
        fd = os.open(graphs / f"{m['map']}.graphml", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            tree.write(f, encoding="utf-8", xml_declaration=True)
        result.maps += 1
        result.connections += len(nodes)
        result.ties += len(edges)
    result.files.append("graphml/")


_NODE_KEYS = ("kind", "category", "ring", "impact", "status", "frequency", "knows_about_mental_health", "roles")
_GRAPH_KEYS = ("map", "person", "date", "time_at_home", "network_size")


def graphml_tree(
    m: dict[str, Any], nodes: list[dict[str, Any]], edges: list[dict[str, Any]], *, keep_labels: bool
) -> ET.ElementTree[ET.Element]:
    """The GraphML of one map (readable by networkx and Gephi)."""
    ET.register_namespace("", GRAPHML_NS)
    root = ET.Element(f"{{{GRAPHML_NS}}}graphml")
    types = {"ring": "int", "time_at_home": "int", "network_size": "int"}
    for key in _GRAPH_KEYS:
        _key(root, f"g_{key}", "graph", key, types.get(key, "string"))
    for key in (*_NODE_KEYS, *(("label",) if keep_labels else ())):
        _key(root, f"n_{key}", "node", key, types.get(key, "string"))
    _key(root, "e_type", "edge", "type", "string")
    graph = ET.SubElement(root, f"{{{GRAPHML_NS}}}graph", id=m["map"], edgedefault="directed")
    for key in _GRAPH_KEYS:
        _data(graph, f"g_{key}", m[key])
    ego = ET.SubElement(graph, f"{{{GRAPHML_NS}}}node", id="ego")
    _data(ego, "n_kind", "ego")
    for node in nodes:
        element = ET.SubElement(graph, f"{{{GRAPHML_NS}}}node", id=node["connection"])
        for key in (*_NODE_KEYS, *(("label",) if keep_labels else ())):
            _data(element, f"n_{key}", node.get(key))
    for n, node in enumerate(nodes):
        edge = ET.SubElement(graph, f"{{{GRAPHML_NS}}}edge", id=f"ego{n}", source="ego", target=node["connection"])
        _data(edge, "e_type", "ego")
    for n, tie in enumerate(edges):
        edge = ET.SubElement(graph, f"{{{GRAPHML_NS}}}edge", id=f"t{n}", source=tie["from"], target=tie["to"])
        _data(edge, "e_type", tie["type"])
    return ET.ElementTree(root)


def _key(root: ET.Element, key_id: str, domain: str, name: str, kind: str) -> None:
    ET.SubElement(root, f"{{{GRAPHML_NS}}}key", {"id": key_id, "for": domain, "attr.name": name, "attr.type": kind})


def _data(parent: ET.Element, key: str, value: Any) -> None:
    if value is None or value == "":
        return
    ET.SubElement(parent, f"{{{GRAPHML_NS}}}data", key=key).text = str(value)


NC_EGO = ("networkCanvasEgoUUID", "networkCanvasCaseID", "networkCanvasSessionID", "networkCanvasProtocolName")
NC_ALTER = ("nodeID", "networkCanvasEgoUUID", "networkCanvasUUID")
NC_EDGE = (
    "edgeID",
    "from",
    "to",
    "networkCanvasEgoUUID",
    "networkCanvasUUID",
    "networkCanvasSourceUUID",
    "networkCanvasTargetUUID",
)
NC_PROTOCOL = "wellbeing-network-mapping"


def _networkcanvas(export: _Export, folder: Path, result: ExportResult) -> None:
    """Network Canvas's CSV export, sessions merged: ego, an attribute list per node type, an edge list per tie type.

    A map is a session (``networkCanvasEgoUUID``/``SessionID``), the person its case; ego-alter
    data (ring, impact, ...) sits on the alter, as Network Canvas keeps it.
    """
    ego_rows = (
        {
            "networkCanvasEgoUUID": m["map"],
            "networkCanvasCaseID": m["person"],
            "networkCanvasSessionID": m["map"],
            "networkCanvasProtocolName": NC_PROTOCOL,
            "date": m["date"],
            "time_at_home": m["time_at_home"],
            "network_size": m["network_size"],
        }
        for m in export.maps()
    )
    result.maps = _write_csv(folder / "ego.csv", (*NC_EGO, "date", "time_at_home", "network_size"), ego_rows)
    result.files.append("ego.csv")
    extra = tuple(c for c in _columns(CONNECTION_COLUMNS, export.keep_labels) if c not in ("map", "person", "kind"))
    writers: dict[str, tuple[TextIO, Any]] = {}
    node_ids: dict[tuple[str, str], int] = {}
    try:
        for node in export.connections():
            kind = str(node["kind"] or "other").capitalize()
            if kind not in writers:
                f = _private_text(folder / f"attributeList_{kind}.csv")
                w = csv.DictWriter(f, fieldnames=[*NC_ALTER, *extra], lineterminator="\n")
                w.writeheader()
                writers[kind] = (f, w)
                result.files.append(f"attributeList_{kind}.csv")
            node_id = node_ids.setdefault((node["map"], node["connection"]), len(node_ids) + 1)
            row = {
                "nodeID": node_id,
                "networkCanvasEgoUUID": node["map"],
                "networkCanvasUUID": f"{node['map']}:{node['connection']}",
            }
            row.update({k: "" if node.get(k) is None else node.get(k) for k in extra})
            writers[kind][1].writerow(row)
            result.connections += 1
        for edge_id, tie in enumerate(export.ties(), start=1):
            kind = str(tie["type"] or "tie")
            if f"edge:{kind}" not in writers:
                f = _private_text(folder / f"edgeList_{kind}.csv")
                w = csv.DictWriter(f, fieldnames=list(NC_EDGE), lineterminator="\n")
                w.writeheader()
                writers[f"edge:{kind}"] = (f, w)
                result.files.append(f"edgeList_{kind}.csv")
            writers[f"edge:{kind}"][1].writerow(
                {
                    "edgeID": edge_id,
                    "from": node_ids.get((tie["map"], tie["from"]), ""),
                    "to": node_ids.get((tie["map"], tie["to"]), ""),
                    "networkCanvasEgoUUID": tie["map"],
                    "networkCanvasUUID": f"{tie['map']}-e{edge_id}",
                    "networkCanvasSourceUUID": f"{tie['map']}:{tie['from']}",
                    "networkCanvasTargetUUID": f"{tie['map']}:{tie['to']}",
                }
            )
            result.ties += 1
    finally:
        for f, _ in writers.values():
            f.close()


# --- the data dictionary ---------------------------------------------------------------------

DICTIONARY: tuple[tuple[str, str], ...] = (
    ("map", "pseudonym of one map (one mapping conversation): HMAC-SHA256 of the map id with the export secret"),
    ("person", "pseudonym of the person: HMAC-SHA256 of the NHS number (else the Patient reference) with the secret"),
    ("connection", "pseudonym of a connection, the same across the person's maps (HMAC of person and connection id)"),
    ("date", "date of the map (YYYY-MM-DD)"),
    ("time_at_home", "share of the waking day spent at home, 0-100 (%); empty when not recorded"),
    ("network_size", "number of current connections on the map"),
    ("kind", "person, place or activity"),
    ("category", "category of the connection (wb-fhir CodeSystem, e.g. family, practitioner, home, hobby)"),
    ("ring", "closeness ring, 1 = closest (inner circle)"),
    ("impact", "impact on wellbeing: very-positive, positive, neutral, mixed, negative, very-negative"),
    ("status", "current, lost or wished-for"),
    ("frequency", "daily, weekly, monthly, less-often, not-currently; empty when not recorded"),
    ("knows_about_mental_health", "people only: yes, no, partly, unsure; empty when not recorded"),
    ("roles", "practitioners only: their roles, separated by ';'"),
    ("from", "pseudonym of the connection a tie starts at"),
    ("to", "pseudonym of the connection a tie ends at"),
    ("type", "tie type: knows, bridged, met-at, takes-place-at, supports (GraphML: also 'ego', person to connection)"),
    ("label", "the connection's label as written on the map (only with --keep-labels: identifying!)"),
)


def _dictionary(folder: Path, result: ExportResult, keep_labels: bool, fmt: str) -> None:
    rows = (
        {"column": column, "meaning": meaning, "format": fmt, "files": ", ".join(result.files)}
        for column, meaning in DICTIONARY
        if keep_labels or column != "label"
    )
    _write_csv(folder / "dictionary.csv", ("column", "meaning", "format", "files"), rows)
    result.files.append("dictionary.csv")


# --- the whole export ------------------------------------------------------------------------


def research_export(
    rows: Rows,
    target: Path,
    fmt: str,
    names: Pseudonyms,
    *,
    keep_labels: bool = False,
    since: date | None = None,
    until: date | None = None,
) -> ExportResult:
    """Write the export into the new folder ``target`` (which must not exist or be empty)."""
    if fmt not in FORMATS:
        raise InputError(f"unknown export format {fmt!r} (one of: {', '.join(FORMATS)})")
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InputError("exists and is not an empty folder: choose a new folder for the export", str(target))
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise InputError("the folder to write the export into does not exist", str(target))
    export = _Export(rows, names, keep_labels, _queries(since, until))
    partial = Path(tempfile.mkdtemp(dir=parent, prefix=f".{target.name}.partial-"))
    result = ExportResult(partial)
    try:
        {"csv": _csv, "graphml": _graphml, "networkcanvas": _networkcanvas}[fmt](export, partial, result)
        _dictionary(partial, result, keep_labels, fmt)
        os.replace(partial, target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    result.folder = target
    return result
