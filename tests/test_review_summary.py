"""The review summary (HTML, PDF), the review narrative and DocumentReference (prefill: test_review_prefill.py)."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree
from PIL import Image, ImageChops, ImageStat
from pypdf import PdfReader

from wb_fhir.assets import load_assets
from wb_fhir.cli import main
from wb_fhir.fhir.document import Attachment
from wb_fhir.mapfile import load_map
from wb_fhir.render import HIGHLIGHTS
from wb_fhir.review.compare import compare_pair
from wb_fhir.review.record import review_care_plan, review_document_reference, review_narrative
from wb_fhir.review.summary import LABEL_LIMIT, review_context, review_html, review_pdf

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "review"
REFERENCE = Path(__file__).resolve().parent / "reference"
OLD = load_map(EXAMPLES / "jordan-2026-05-14.yaml")
NEW = load_map(EXAMPLES / "jordan-2026-11-12.yaml")
ASSETS = load_assets(EXAMPLES.parent / "assets.yaml")
PRINT_DPI = 50
"""Resolution of the reference pictures of the printed pages (small files; looked at, at 96 dpi, when made)."""
EVIL = '<script>alert("x")</script><b onclick="x()">Bob</b>'

# Elements FHIR allows in a narrative (R4, Narrative: xhtml rules), a subset is enough here.
NARRATIVE_ELEMENTS = {"div", "p", "h3", "ul", "li", "table", "thead", "tbody", "tr", "th", "td", "b", "i", "span"}


def evil_new() -> object:
    return replace(NEW, connections=tuple(replace(c, label=EVIL) if c.id == "sue" else c for c in NEW.connections))


def test_summary_html_has_maps_changes_goals_measures_and_words() -> None:
    html = review_html([NEW, OLD])
    assert html.count("<svg") == 3  # two maps, one legend
    assert "<script" not in html and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    for text in ("What changed", "Goal progress", "Network measures", "The network now, in words"):
        assert text in html
    assert "2 of 2 done" in html and "8 changes since 14 May 2026 marked" in html
    assert "Maps of 14 May 2026, 12 November 2026" in html
    assert html.count('<div class="drawing"') == 3  # two maps and one legend for both
    assert html.count("Colour and sign: impact on wellbeing") == 1


def test_changes_are_drawn_as_compare_names_them() -> None:
    """No alias table: MapChanges.highlight goes to the renderer as it comes."""
    step = compare_pair(OLD, NEW)
    assert {"moved-closer", "impact-better", "became-current"} <= set(step.highlight.values())
    html = review_html([OLD, NEW])
    for change in set(step.highlight.values()):
        assert f"change: {HIGHLIGHTS[change][1]}" in html


def test_sign_posts_by_asset_name_and_goal_progress_with_dates() -> None:
    named = review_context([OLD, NEW], asset_names=ASSETS.names)
    rows = named["follow_up"]["rows"]
    assert [(r["asset"], r["reason"], r["status"].split(" since ")[0]) for r in rows] == [
        ("Green gym volunteering", "Spend more time outside the house", "Attended"),
        ("Recovery College courses", "Try an evening class", "Suggested"),
    ]
    assert rows[0]["status"].endswith("since 12 June 2026")
    no_names = review_context([OLD, NEW], asset_names={})
    assert no_names["follow_up"]["rows"][0]["asset"] == "green-gym"  # not in the directory: the id
    html = review_html([OLD, NEW], asset_names=ASSETS.names)
    assert "Green gym volunteering" in html and ">green-gym<" not in html
    goal = named["goals"][0]
    assert (goal["done"], goal["total"]) == (2, 2)
    assert [m["when"] for m in goal["milestones"]] == ["done 12 June 2026", "done 2 September 2026"]


def test_wording_is_plain_and_correct() -> None:
    html = review_html([OLD, NEW])
    assert "(s)" not in html.replace("(s) ", "")
    words = " ".join(review_context([OLD, NEW])["description"])
    assert "Inner circle (ring 1): " in words and "Closest (" not in words
    lone = replace(NEW, connections=NEW.connections[:1], ties=(), goals=(), signposts=())
    assert "1 current connection:" in " ".join(review_context([OLD, lone])["description"])


def test_summary_escapes_labels() -> None:
    html = review_html([OLD, evil_new()])  # type: ignore[list-item]
    assert "<script>" not in html and 'onclick="x()"' not in html
    assert "&lt;script&gt;" in html


def test_summary_ids_are_unique_on_the_page() -> None:
    html = review_html([OLD, NEW])
    tree = etree.HTML(html)
    ids = tree.xpath("//@id")
    assert ids and len(ids) == len(set(ids))


def test_print_document_one_map_a_page_drawn_as_vector_text() -> None:
    pdf = PdfReader(io.BytesIO(review_pdf([OLD, NEW], asset_names=ASSETS.names)))
    pages = [page.extract_text() for page in pdf.pages]
    assert "How to read the maps" in pages[0] and "Shape: kind" in pages[0]  # the legend, drawn once
    assert "Map of 14 May 2026" in pages[1] and "Map of 12 November 2026" in pages[2]
    # The maps are the renderer's drawings laid into the pages: their labels are real text.
    assert "Community garden" in pages[2] and "Sue from the green" in pages[2]
    assert "Community garden" not in pages[1]
    assert all("Shape: kind" not in page for page in pages[1:])


def _printed_pages(pdf: bytes) -> list[Image.Image]:
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    return [page.render(scale=PRINT_DPI / 72).to_pil().convert("RGB") for page in document]


@pytest.mark.slow
def test_printed_pages_match_their_reference_pictures() -> None:
    """Regenerate with ``python tests/refresh_references.py`` after a deliberate change of look."""
    pages = _printed_pages(review_pdf([OLD, NEW], asset_names=ASSETS.names))
    for n, page in enumerate(pages[:3], start=1):
        expected = Image.open(REFERENCE / f"review-page-{n}.png").convert("RGB")
        assert page.size == expected.size
        assert max(ImageStat.Stat(ImageChops.difference(page, expected)).mean) < 2.0, n


def test_a_huge_label_is_cut_in_the_summary_text() -> None:
    label = "🐕" * 10000
    huge = replace(NEW, connections=tuple(replace(c, label=label) if c.id == "mum" else c for c in NEW.connections))
    html = review_html([OLD, huge])
    cut = "🐕" * LABEL_LIMIT + "…"
    assert cut in html
    assert "🐕" * (LABEL_LIMIT + 1) not in html.split("<svg")[0] + html.split("</svg>")[-1]


def test_review_pdf_command(tmp_path: Path) -> None:
    out = tmp_path / "review.pdf"
    result = CliRunner().invoke(
        main,
        ["review", str(EXAMPLES / "jordan-2026-05-14.yaml"), str(EXAMPLES / "jordan-2026-11-12.yaml"), "-o", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF-")


def test_review_command_names_sign_posts_from_the_asset_directory(tmp_path: Path) -> None:
    out = tmp_path / "review.html"
    old, new = str(EXAMPLES / "jordan-2026-05-14.yaml"), str(EXAMPLES / "jordan-2026-11-12.yaml")
    result = CliRunner().invoke(
        main, ["review", old, new, "-o", str(out), "--assets", str(EXAMPLES.parent / "assets.yaml")]
    )
    assert result.exit_code == 0, result.output
    assert "Green gym volunteering" in out.read_text(encoding="utf-8")


def test_review_refuses_other_outputs(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "review",
            str(EXAMPLES / "jordan-2026-05-14.yaml"),
            str(EXAMPLES / "jordan-2026-11-12.yaml"),
            "-o",
            str(tmp_path / "x.doc"),
        ],
    )
    assert result.exit_code == 2
    assert "the review summary is written as .html or .pdf" in result.output


def test_narrative_is_allowed_xhtml_and_escaped() -> None:
    div = review_narrative(compare_pair(OLD, evil_new()), evil_new())  # type: ignore[arg-type]
    root = etree.fromstring(div.encode("utf-8"))
    assert root.tag == "{http://www.w3.org/1999/xhtml}div"
    tags = {etree.QName(el).localname for el in root.iter()}
    assert tags <= NARRATIVE_ELEMENTS
    assert not [a for el in root.iter() for a in el.attrib if a.startswith("on")]
    assert EVIL in "".join(root.itertext())


def test_document_reference_and_care_plan() -> None:
    changes = compare_pair(OLD, NEW)
    doc = review_document_reference(
        changes, NEW, [Attachment("application/pdf", b"%PDF-1.7", "Review"), Attachment("text/html", b"<p>", "Review")]
    )
    assert doc["type"]["coding"][0]["code"] == "734163000"
    assert [c["attachment"]["contentType"] for c in doc["content"]] == ["application/pdf", "text/html"]
    related = doc["context"]["related"][0]
    assert related["type"] == "CarePlan"
    plan = review_care_plan(changes, NEW)
    assert related["identifier"] == plan["identifier"][0]
    assert plan["text"]["div"].startswith('<div xmlns="http://www.w3.org/1999/xhtml">')
