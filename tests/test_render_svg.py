"""The SVG is safe to embed and accessible, whatever the labels say."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from wb_fhir.mapfile import load_map
from wb_fhir.model import Connection, Subject, Tie, WellbeingMap
from wb_fhir.render import RenderOptions, describe, render_pdf, render_png, render_svg
from wb_fhir.render._text import clean
from wb_fhir.terminology import Category, Impact, Kind, Role, Status, TieType

SVG_NS = "http://www.w3.org/2000/svg"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NASTY = [
    "<script>alert(1)</script>",
    'Tom & Jerry\'s "café"',
    "]]><svg onload=alert(1)>",
    "مرحبا بالعالم",  # right-to-left
    "👩‍👩‍👧 family 🎉",
    "x" * 300,
    "a\x00b\x1fc\ufffe",
    "&amp; &#x3C;b&#x3E;",
]


def parse(svg: str) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    return etree.fromstring(svg.encode("utf-8"), parser)


def assert_safe(root: etree._Element) -> None:
    assert root.tag == f"{{{SVG_NS}}}svg"
    for el in root.iter():
        assert isinstance(el.tag, str), "no comments or processing instructions"
        assert etree.QName(el).namespace == SVG_NS, el.tag
        assert etree.QName(el).localname not in ("script", "foreignObject", "image", "use", "a", "iframe", "style")
        for name, value in el.attrib.items():
            local = etree.QName(name).localname.lower()
            assert not local.startswith("on"), name
            assert local != "href", name
            assert "url(" not in value and "javascript:" not in value.lower(), (name, value)


def one_connection_map(label: str, display: str = "Sam") -> WellbeingMap:
    return WellbeingMap(
        subject=Subject(nhs_number="9434765919", display=display),
        date=date(2026, 3, 1),
        connections=(
            Connection("a", Kind.PERSON, label, Category.PRACTITIONER, 1, Impact.MIXED, roles=(Role.MOTIVATOR,)),
            Connection(
                "b", Kind.PLACE, label[::-1] or "x", Category.PARK, 2, Impact.POSITIVE, status=Status.WISHED_FOR
            ),
            Connection("c", Kind.ACTIVITY, label + " 2", Category.HOBBY, 3, Impact.NEGATIVE, status=Status.LOST),
        ),
        ties=(Tie("a", "b", TieType.BRIDGED),),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(label=st.text(min_size=1, max_size=200), display=st.text(min_size=1, max_size=60))
def test_any_label_gives_safe_well_formed_svg(label: str, display: str) -> None:
    wmap = one_connection_map(label, display)
    root = parse(render_svg(wmap))
    assert_safe(root)
    titles = [t.text or "" for t in root.iter(f"{{{SVG_NS}}}title")]
    assert any(t.startswith(clean(label) + "; person, practitioner") for t in titles)


def test_markup_in_labels_shows_as_text() -> None:
    for label in NASTY:
        svg = render_svg(one_connection_map(label, display=label))
        root = parse(svg)
        assert_safe(root)
        assert "<script" not in svg and "<svg onload" not in svg
        texts = "".join(root.itertext())
        assert clean(label)[:20] in texts


def test_nasty_labels_render_to_png_and_pdf() -> None:
    wmap = one_connection_map(" ".join(NASTY))
    assert render_png(wmap).startswith(b"\x89PNG\r\n\x1a\n")
    assert render_pdf(wmap).startswith(b"%PDF-")


def test_root_is_an_accessible_image() -> None:
    wmap = load_map(EXAMPLES / "figure1.yaml")
    root = parse(render_svg(wmap))
    assert root.get("role") == "img"
    assert root.get("lang") == "en-GB"
    ids = root.get("aria-labelledby").split()
    by_id = {el.get("id"): el for el in root.iter() if el.get("id")}
    assert [etree.QName(by_id[i]).localname for i in ids] == ["title", "desc"]
    assert by_id[ids[0]].text == "Sam: wellbeing network map, 20 November 2026"
    assert by_id[ids[1]].text == describe(wmap)
    assert "DejaVu Sans" in root.get("font-family") and root.get("font-family").endswith("sans-serif")


def test_every_node_has_a_title_with_its_details() -> None:
    wmap = load_map(EXAMPLES / "figure1.yaml")
    root = parse(render_svg(wmap))
    nodes = [g for g in root.iter(f"{{{SVG_NS}}}g") if (g.get("id") or "").startswith("node-")]
    assert len(nodes) == len(wmap.connections)
    titles = {g.find(f"{{{SVG_NS}}}title").text for g in nodes}
    assert (
        "CPN; person, practitioner; ring 1 (Inner circle); impact positive (+); contact monthly; current; "
        "knows about mental health: knows; roles: bridge builder, network member"
    ) in titles
    assert "Gym; place, sport and leisure; ring 2 (Middle); impact positive (+); contact weekly; current" in titles


def test_impact_is_written_as_a_glyph_not_only_a_colour() -> None:
    wmap = load_map(EXAMPLES / "figure1.yaml")
    root = parse(render_svg(wmap))
    nodes = [g for g in root.iter(f"{{{SVG_NS}}}g") if (g.get("id") or "").startswith("node-")]
    glyphs = sorted(g.findall(f"{{{SVG_NS}}}text")[0].text for g in nodes)
    assert glyphs == sorted(["-", "+", "0", "+", "+", "±", "+", "0", "+", "++"])


def test_nhs_number_is_hidden_unless_asked_for() -> None:
    wmap = load_map(EXAMPLES / "figure1.yaml")
    assert "9434765919" not in render_svg(wmap) and "943 476 5919" not in render_svg(wmap)
    assert "NHS number 943 476 5919" in render_svg(wmap, RenderOptions(show_nhs_number=True))


def test_empty_map_says_so() -> None:
    wmap = load_map(EXAMPLES / "alone.yaml")
    root = parse(render_svg(wmap))
    assert_safe(root)
    assert "No connections recorded yet" in "".join(root.itertext())
    assert "No connections recorded yet." in describe(wmap)


def test_description_says_hoped_for_ties_are_hoped_for() -> None:
    wmap = load_map(EXAMPLES / "diverse-network.yaml")
    text = describe(replace(wmap, ties=(Tie("care-coordinator", "drawing", TieType.BRIDGED),)))
    assert "Jess (care coordinator) could help them get to Drawing again (hoped for)" in text
    assert "got them to Drawing again" not in text
    closest = describe(wmap)
    assert "Closest (Closest)" not in closest and "Closest (ring 1): " in closest
    assert "1 activities" not in describe(load_map(EXAMPLES / "figure1.yaml"))


def test_text_in_other_scripts_carries_its_language_and_direction() -> None:
    root = parse(render_svg(load_map(EXAMPLES / "multilingual.yaml")))
    texts = {t.text: t for t in root.iter(f"{{{SVG_NS}}}text")}
    arabic = texts["صديقي أحمد"]
    assert arabic.get("direction") == "rtl" and arabic.get("lang") == "ar"
    assert arabic.get("{http://www.w3.org/XML/1998/namespace}lang") == "ar"
    assert arabic.get("font-family").startswith("'Noto Sans Arabic'")
    assert texts["امی جان"].get("lang") == "ur"
    assert texts["ਦਾਦੀ ਜੀ"].get("lang") == "pa" and texts["ਦਾਦੀ ਜੀ"].get("direction") is None
    assert texts["Capel y Bryn"].get("lang") is None  # Latin: the map's own en-GB


def test_highlight_is_in_the_node_title() -> None:
    wmap = load_map(EXAMPLES / "figure1.yaml")
    root = parse(render_svg(wmap, RenderOptions(highlight={"gym": "added"})))
    titles = [t.text for t in root.iter(f"{{{SVG_NS}}}title")]
    assert any(t.startswith("Gym;") and t.endswith("change: new since the last map") for t in titles)


def test_description_in_plain_words() -> None:
    text = describe(load_map(EXAMPLES / "figure1.yaml"))
    assert text.startswith("Sam's wellbeing network, mapped on 20 November 2026 with Alex Jones (CPN).")
    assert "10 current connections: 5 people, 4 places and 1 activity." in text
    assert "Inner circle (ring 1): Mum, CPN, Home and Reading." in text
    assert "Harmful to wellbeing: Mum." in text and "Balance: 6 positive against 1 negative." in text
    assert "CPN (in the closest ring, as bridge builder and network member)" in text
    assert "CPN got them to Gym" in text
    assert text.endswith("About 75% of the waking day is spent at home.")
    lost = describe(load_map(EXAMPLES / "diverse-network.yaml"))
    assert "Lost: " in lost and "Hoped for: " in lost and "Nan" in lost
    assert describe(replace(load_map(EXAMPLES / "alone.yaml"), subject=Subject(fhir_id="Patient/x"))).startswith(
        "This wellbeing network"
    )
