"""Geometry of the concentric map: properties that must hold for every map."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from render_samples import generated_map, random_map

from wb_fhir.errors import InputError
from wb_fhir.mapfile import load_map
from wb_fhir.model import WellbeingMap
from wb_fhir.render import Layout, RenderOptions, layout_map
from wb_fhir.render._routes import bezier_points, segment_distance
from wb_fhir.render.layout import overlapping
from wb_fhir.terminology import Kind, Status

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
EXAMPLE_FILES = sorted(p for p in EXAMPLES.rglob("*.yaml") if p.name != "assets.yaml")


def _maps() -> list[tuple[str, WellbeingMap]]:
    maps = [(p.stem, load_map(p)) for p in EXAMPLE_FILES]
    maps += [(f"generated-{n}", generated_map(n)) for n in (0, 1, 2, 10, 30, 60)]
    maps += [(f"generated-{n}-rings-{r}", generated_map(n, rings=r)) for n, r in ((12, 1), (40, 6))]
    return maps


MAPS = _maps()


def _all_boxes(layout: Layout) -> list:
    boxes = list(layout.fixed_boxes)
    for node in layout.nodes:
        boxes.extend(node.boxes)
    boxes += [t.box for t in (*layout.header, *layout.panel)]
    boxes += [item.text.box for item in layout.legend] + [b for k in layout.keys for b in k.boxes]
    return boxes


@pytest.fixture(scope="module", params=MAPS, ids=[name for name, _ in MAPS])
def laid_out(request: pytest.FixtureRequest) -> tuple[WellbeingMap, Layout]:
    wmap = request.param[1]
    return wmap, layout_map(wmap)


def test_nothing_overlaps(laid_out: tuple[WellbeingMap, Layout]) -> None:
    _, layout = laid_out
    boxes = _all_boxes(layout)
    assert overlapping(boxes) == []


def test_everything_is_on_the_canvas(laid_out: tuple[WellbeingMap, Layout]) -> None:
    _, layout = laid_out
    for box in _all_boxes(layout):
        assert box.x >= 0 and box.right <= layout.width
        assert box.y >= 0 and box.bottom <= layout.height


def test_every_connection_is_drawn_exactly_once(laid_out: tuple[WellbeingMap, Layout]) -> None:
    wmap, layout = laid_out
    drawn = Counter(n.connection.id for n in layout.nodes)
    assert drawn == Counter(c.id for c in wmap.connections)
    assert all(n == 1 for n in drawn.values())


def test_one_labelled_band_per_ring_and_lost_band_only_when_needed(laid_out: tuple[WellbeingMap, Layout]) -> None:
    wmap, layout = laid_out
    rings = [b for b in layout.bands if not b.lost]
    assert [b.label.text for b in rings] == list(wmap.rings)
    assert [b.index for b in rings] == list(range(1, len(wmap.rings) + 1))
    has_lost = any(c.status is Status.LOST for c in wmap.connections)
    assert [b.label.text for b in layout.bands if b.lost] == (["Lost"] if has_lost else [])
    for inner, outer in zip(layout.bands, layout.bands[1:], strict=False):
        assert inner.outer <= outer.inner


def _polar(layout: Layout, x: float, y: float) -> tuple[float, float]:
    distance = math.hypot(x - layout.cx, y - layout.cy)
    angle = math.degrees(math.atan2(x - layout.cx, layout.cy - y)) % 360
    return distance, angle


def test_connections_sit_on_their_ring_in_their_sector(laid_out: tuple[WellbeingMap, Layout]) -> None:
    wmap, layout = laid_out
    bands = {b.index: b for b in layout.bands}
    sectors = {s.kind: s for s in layout.sectors}
    last_ring = max(b.outer for b in layout.bands if not b.lost)
    for node in layout.nodes:
        c = node.connection
        distance, angle = _polar(layout, node.x, node.y)
        if c.status is Status.LOST:
            band = bands[len(wmap.rings) + 1]
            assert band.lost and distance > last_ring
        else:
            band = bands[c.ring]
            assert not band.lost
        assert band.inner + 12 <= distance <= band.outer - 12, (c.id, distance, band)
        sector = sectors[c.kind]
        assert sector.start < angle < sector.end or (sector.start == 0 and sector.end == 360)


def test_sectors_cover_the_circle_in_kind_order(laid_out: tuple[WellbeingMap, Layout]) -> None:
    wmap, layout = laid_out
    kinds = [k for k in Kind if any(c.kind is k for c in wmap.connections)]
    assert [s.kind for s in layout.sectors] == kinds
    if layout.sectors:
        assert layout.sectors[0].start == 0 and layout.sectors[-1].end == pytest.approx(360)
        for a, b in zip(layout.sectors, layout.sectors[1:], strict=False):
            assert a.end == pytest.approx(b.start)


def test_labels_or_numbered_keys(laid_out: tuple[WellbeingMap, Layout]) -> None:
    _, layout = laid_out
    keyed = sorted(n.key for n in layout.nodes if n.key is not None)
    assert keyed == list(range(1, len(keyed) + 1))
    assert [k.key for k in layout.keys] == keyed
    for node in layout.nodes:
        if node.key is None:
            assert " ".join(line.text for line in node.label) == node.connection.label
        else:
            assert [line.text for line in node.label] == [str(node.key)]


def test_layout_is_deterministic() -> None:
    wmap = generated_map(30)
    assert layout_map(wmap) == layout_map(wmap)


def test_empty_map_draws_me_and_says_so() -> None:
    layout = layout_map(generated_map(0))
    assert layout.nodes == () and layout.sectors == () and layout.ties == ()
    assert layout.me_label.text == "Me"
    assert layout.notice is not None and layout.notice.text == "No connections recorded yet"
    assert len(layout.bands) == 3


def test_one_connection_gets_the_whole_circle_and_no_divider() -> None:
    layout = layout_map(generated_map(1))
    (sector,) = layout.sectors
    assert (sector.start, sector.end, sector.divider) == (0, 360, None)


def test_large_network_stays_legible_with_numbered_keys() -> None:
    wmap = generated_map(150)
    layout = layout_map(wmap)
    assert overlapping(_all_boxes(layout)) == []
    assert len(layout.nodes) == 150
    assert len(layout.keys) > 0
    for entry in layout.keys:
        assert entry.number.text == str(entry.key)
    node = next(n for n in layout.nodes if n.key == layout.keys[3].key)
    assert " ".join(line.text for line in layout.keys[3].lines) == node.connection.label


def test_networks_of_up_to_60_connections_keep_their_labels() -> None:
    """Numbered keys only where a label cannot be placed: not in the examples, not at 60."""
    for name in (
        "figure1",
        "diverse-network",
        "multilingual",
        "jordan-2026-05-14",
        "jordan-2026-11-12",
        "generated-60",
    ):
        layout = layout_map(dict(MAPS)[name])
        assert all(n.key is None for n in layout.nodes), name


def test_ties_join_their_nodes_and_bridged_ties_have_arrows() -> None:
    wmap = load_map(EXAMPLES / "figure1.yaml")
    layout = layout_map(wmap)
    at = {n.connection.id: n for n in layout.nodes}
    assert len(layout.ties) == len(wmap.ties)
    for t in layout.ties:
        a, b = at[t.tie.from_id], at[t.tie.to_id]
        assert math.dist(t.start, (a.x, a.y)) < 20 and math.dist(t.end, (b.x, b.y)) < 20
        assert bool(t.arrow) == (t.tie.type.value == "bridged")
        assert len(t.path) % 3 == 1 and t.svg_path.startswith("M") and " C" in t.svg_path


def _ties_meeting_other_nodes(layout: Layout) -> list[tuple[str, str]]:
    """(tie, node) for every tie whose curve comes within a node's drawing (its shape, badge or
    halo) when that node is not one of the tie's ends: the curve checked every 2 px."""
    met = []
    for t in layout.ties:
        points = bezier_points(t.path, 2.0)
        for node in layout.nodes:
            if node.connection.id in (t.tie.from_id, t.tie.to_id):
                continue
            centre = (node.x, node.y)
            if any(segment_distance(centre, a, b) < node.reach for a, b in itertools.pairwise(points)):
                met.append((t.tie.id, node.connection.id))
        if any(math.dist(p, (layout.cx, layout.cy)) < layout.me_r for p in points):
            met.append((t.tie.id, "Me"))
    return met


def test_no_tie_meets_a_node_other_than_its_ends(laid_out: tuple[WellbeingMap, Layout]) -> None:
    _, layout = laid_out
    assert _ties_meeting_other_nodes(layout) == []


@pytest.mark.parametrize("seed", range(12))
def test_no_tie_meets_a_node_on_random_maps_up_to_60_connections(seed: int) -> None:
    wmap = random_map(seed, 5 + seed * 5, rings=1 + seed % 4)
    layout = layout_map(wmap)
    assert len(layout.ties) == len(wmap.ties) > 0
    assert _ties_meeting_other_nodes(layout) == []


def test_the_check_for_ties_meeting_nodes_bites() -> None:
    layout = layout_map(load_map(EXAMPLES / "figure1.yaml"))
    tie = layout.ties[0]
    other = next(n for n in layout.nodes if n.connection.id not in (tie.tie.from_id, tie.tie.to_id))
    straight = replace(tie, path=(tie.start, (other.x, other.y), (other.x, other.y), tie.end))
    assert _ties_meeting_other_nodes(replace(layout, ties=(straight,)))


def test_ties_cross_few_labels() -> None:
    """In figure 1 no tie crosses a label other than those of its own ends."""
    layout = layout_map(load_map(EXAMPLES / "figure1.yaml"))
    for t in layout.ties:
        points = bezier_points(t.path, 2.0)
        for node in layout.nodes:
            if node.connection.id in (t.tie.from_id, t.tie.to_id) or node.label_box is None:
                continue
            box = node.label_box
            inside = [p for p in points if box.x < p[0] < box.right and box.y < p[1] < box.bottom]
            assert not inside, (t.tie.id, node.connection.label)


def test_wished_for_and_lost_placement() -> None:
    wmap = load_map(EXAMPLES / "diverse-network.yaml")
    layout = layout_map(wmap)
    lost_band = next(b for b in layout.bands if b.lost)
    for node in layout.nodes:
        distance = math.hypot(node.x - layout.cx, node.y - layout.cy)
        if node.connection.status is Status.WISHED_FOR:
            assert node.band == node.connection.ring
        if node.connection.status is Status.LOST:
            assert lost_band.inner < distance < lost_band.outer


def test_nhs_number_only_on_request() -> None:
    wmap = load_map(EXAMPLES / "figure1.yaml")
    plain = " ".join(t.text for t in layout_map(wmap).header)
    shown = " ".join(t.text for t in layout_map(wmap, RenderOptions(show_nhs_number=True)).header)
    assert "943" not in plain
    assert "NHS number 943 476 5919" in shown


def test_highlights_mark_nodes_and_unknown_ids_are_refused() -> None:
    wmap = load_map(EXAMPLES / "figure1.yaml")
    layout = layout_map(wmap, RenderOptions(highlight={"gym": "added", "mum": "impact-worse", "gp": "frequency"}))
    marked = {n.connection.id: n.highlight for n in layout.nodes if n.highlight}
    assert marked == {"gym": "added", "mum": "impact-worse", "gp": "frequency"}
    assert [i.value for i in layout.legend if i.sample == "highlight"] == ["★", "▼", "•"]
    assert overlapping(_all_boxes(layout)) == []
    with pytest.raises(InputError) as err:
        layout_map(wmap, RenderOptions(highlight={"nobody": "added"}))
    assert str(err.value) == "options.highlight[nobody]: no connection has this id"
    with pytest.raises(InputError) as err:
        RenderOptions(highlight={"gym": "moved"})
    assert "options.highlight[gym]: 'moved' is not one of added, became-lost" in str(err.value)


def test_every_change_of_a_comparison_can_be_drawn() -> None:
    """One vocabulary: MapChanges.highlight goes to the renderer as it comes."""
    from wb_fhir.render import HIGHLIGHTS
    from wb_fhir.review.compare import Change

    assert {c.value for c in Change if c is not Change.REMOVED} == set(HIGHLIGHTS)


def test_home_share_bar() -> None:
    wmap = load_map(EXAMPLES / "figure1.yaml")
    assert layout_map(wmap).home_bar is not None and layout_map(wmap).home_bar.share == 75
    assert layout_map(replace(wmap, time_at_home=None)).home_bar is None
