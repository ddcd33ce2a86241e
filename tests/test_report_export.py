"""wb-fhir export: de-identified CSV, GraphML (read back with networkx) and Network Canvas CSV.

No NHS number, name, label or connection id in any file without --keep-labels; pseudonyms
are keyed hashes (the same with the same secret, different with another); the rows match the
maps one for one.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from click.testing import CliRunner
from population import all_maps, population, write_map_files

from wb_fhir.cli import main
from wb_fhir.report import Pseudonyms
from wb_fhir.terminology import Status

MAPS = all_maps(population(25, seed=1902))
SECRET = "correct horse battery staple 19"


def run(*args: str, secret: str | None = SECRET) -> Any:
    env = {"WB_FHIR_SERVER": "", "WB_FHIR_EXPORT_SECRET": secret or ""}
    return CliRunner().invoke(main, list(args), env=env)


@pytest.fixture(scope="module")
def map_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_map_files(MAPS, tmp_path_factory.mktemp("maps"))


def export(map_folder: Path, out: Path, fmt: str, *extra: str) -> Path:
    result = run("export", str(map_folder), "--format", fmt, "-o", str(out), *extra)
    assert result.exit_code == 0, result.output
    return out


def all_text(folder: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*")) if p.is_file())


def identifying(keep_labels: bool) -> list[str]:
    """What must never appear in an export: NHS numbers, names, and (without the flag) labels and ids."""
    words = [m.subject.nhs_number or "" for m in MAPS] + [m.subject.display or "" for m in MAPS]
    words += [m.id for m in MAPS]
    if not keep_labels:
        words += [c.label for m in MAPS for c in m.connections]
    return [w for w in words if w]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("fmt", ["csv", "graphml", "networkcanvas"])
def test_no_identifier_or_label_without_the_flag(map_folder: Path, tmp_path: Path, fmt: str) -> None:
    text = all_text(export(map_folder, tmp_path / "out", fmt))
    for word in identifying(keep_labels=False):
        assert word not in text, f"{word!r} leaked into the {fmt} export"
    # connection ids are words people choose ("mum"): never written as they are
    assert ",c1," not in text and '"c1"' not in text and ">c1<" not in text
    for path in (tmp_path / "out").rglob("*"):
        assert path.stat().st_mode & 0o077 == 0, f"{path} is readable by others"


def test_labels_only_with_keep_labels(map_folder: Path, tmp_path: Path) -> None:
    out = export(map_folder, tmp_path / "out", "csv", "--keep-labels")
    nodes = read_csv(out / "nodes.csv")
    labels = Counter(r["label"] for r in nodes)
    assert labels == Counter(c.label for m in MAPS for c in m.connections)
    text = all_text(out)
    for word in identifying(keep_labels=True):
        assert word not in text


def test_csv_rows_match_the_maps(map_folder: Path, tmp_path: Path) -> None:
    out = export(map_folder, tmp_path / "out", "csv")
    maps, nodes, edges = (read_csv(out / f) for f in ("maps.csv", "nodes.csv", "edges.csv"))
    names = Pseudonyms(SECRET.encode())
    assert sorted(r["map"] for r in maps) == sorted(names.map(m.id) for m in MAPS)
    assert len(nodes) == sum(len(m.connections) for m in MAPS)
    assert len(edges) == sum(len(m.ties) for m in MAPS)
    by_map = {names.map(m.id): m for m in MAPS}
    for row in maps:
        m = by_map[row["map"]]
        assert row["person"] == names.person(f"nhs:{m.subject.nhs_number}")
        assert row["date"] == m.date.isoformat()
        assert row["time_at_home"] == ("" if m.time_at_home is None else str(m.time_at_home))
        assert int(row["network_size"]) == sum(1 for c in m.connections if c.status is Status.CURRENT)
    for m in MAPS:
        mine = sorted(
            (r["kind"], r["category"], r["ring"], r["impact"], r["status"], r["roles"])
            for r in nodes
            if r["map"] == names.map(m.id)
        )
        assert mine == sorted(
            (c.kind.value, c.category.value, str(c.ring), c.impact.value, c.status.value, ";".join(c.roles))
            for c in m.connections
        )
    dictionary = {r["column"] for r in read_csv(out / "dictionary.csv")}
    assert set(maps[0]) | set(nodes[0]) | set(edges[0]) <= dictionary
    assert "label" not in dictionary


def test_pseudonyms_follow_a_connection_across_reviews_and_depend_on_the_secret(
    map_folder: Path, tmp_path: Path
) -> None:
    first = read_csv(export(map_folder, tmp_path / "a", "csv") / "maps.csv")
    again = read_csv(export(map_folder, tmp_path / "b", "csv") / "maps.csv")
    assert {r["person"] for r in first} == {r["person"] for r in again}
    result = run(
        "export", str(map_folder), "--format", "csv", "-o", str(tmp_path / "c"), secret="another secret, long enough"
    )
    assert result.exit_code == 0
    other = read_csv(tmp_path / "c" / "maps.csv")
    assert not {r["person"] for r in first} & {r["person"] for r in other}
    names = Pseudonyms(SECRET.encode())
    assert names.connection("nhs:1", "mum") == names.connection("nhs:1", "mum") != names.connection("nhs:2", "mum")


def test_graphml_reads_back_in_networkx(map_folder: Path, tmp_path: Path) -> None:
    out = export(map_folder, tmp_path / "out", "graphml")
    names = Pseudonyms(SECRET.encode())
    files = sorted((out / "graphml").glob("*.graphml"))
    assert len(files) == len(MAPS)
    for m in MAPS:
        graph = nx.read_graphml(out / "graphml" / f"{names.map(m.id)}.graphml")
        assert isinstance(graph, nx.DiGraph)
        assert graph.number_of_nodes() == len(m.connections) + 1
        assert graph.nodes["ego"]["kind"] == "ego"
        assert graph.graph["date"] == m.date.isoformat()
        assert graph.graph["person"] == names.person(f"nhs:{m.subject.nhs_number}")
        person = f"nhs:{m.subject.nhs_number}"
        for c in m.connections:
            node = graph.nodes[names.connection(person, c.id)]
            assert (node["kind"], node["category"], node["ring"], node["impact"]) == (
                c.kind.value,
                c.category.value,
                c.ring,
                c.impact.value,
            )
            assert graph.edges["ego", names.connection(person, c.id)]["type"] == "ego"
        for t in m.ties:
            edge = graph.edges[names.connection(person, t.from_id), names.connection(person, t.to_id)]
            assert edge["type"] == t.type.value


def test_network_canvas_shape(map_folder: Path, tmp_path: Path) -> None:
    out = export(map_folder, tmp_path / "out", "networkcanvas")
    ego = read_csv(out / "ego.csv")
    assert len(ego) == len(MAPS)
    assert list(ego[0])[:4] == ["networkCanvasEgoUUID", "networkCanvasCaseID", "networkCanvasSessionID",
                                "networkCanvasProtocolName"]  # fmt: skip
    alters = [r for f in out.glob("attributeList_*.csv") for r in read_csv(f)]
    assert len(alters) == sum(len(m.connections) for m in MAPS)
    assert list(alters[0])[:3] == ["nodeID", "networkCanvasEgoUUID", "networkCanvasUUID"]
    sessions = {r["networkCanvasEgoUUID"] for r in ego}
    assert {r["networkCanvasEgoUUID"] for r in alters} <= sessions
    uuids = {r["networkCanvasUUID"]: r for r in alters}
    assert len(uuids) == len(alters)
    edges = [r for f in out.glob("edgeList_*.csv") for r in read_csv(f)]
    assert len(edges) == sum(len(m.ties) for m in MAPS)
    for e in edges:
        assert e["networkCanvasSourceUUID"] in uuids and e["networkCanvasTargetUUID"] in uuids
        assert uuids[e["networkCanvasSourceUUID"]]["nodeID"] == e["from"]


def test_export_refuses_a_short_or_missing_secret_and_a_used_folder(map_folder: Path, tmp_path: Path) -> None:
    result = run("export", str(map_folder), "--format", "csv", "-o", str(tmp_path / "a"), secret=None)
    assert result.exit_code == 2 and "needs a secret" in result.stderr
    result = run("export", str(map_folder), "--format", "csv", "-o", str(tmp_path / "a"), secret="short")
    assert result.exit_code == 2 and "at least 16 bytes" in result.stderr
    used = tmp_path / "used"
    used.mkdir()
    (used / "keep.txt").write_text("mine")
    result = run("export", str(map_folder), "--format", "csv", "-o", str(used))
    assert result.exit_code == 2 and "not an empty folder" in result.stderr
    assert [p.name for p in used.iterdir()] == ["keep.txt"]
    assert not list(tmp_path.glob(".*partial*"))
