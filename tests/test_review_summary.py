"""The review summary (HTML, PDF), the review narrative and DocumentReference (prefill: test_review_prefill.py)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from click.testing import CliRunner
from lxml import etree

from wb_fhir.cli import main
from wb_fhir.fhir.document import Attachment
from wb_fhir.mapfile import load_map
from wb_fhir.review.compare import compare_pair
from wb_fhir.review.record import review_care_plan, review_document_reference, review_narrative
from wb_fhir.review.summary import review_html

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "review"
OLD = load_map(EXAMPLES / "jordan-2026-05-14.yaml")
NEW = load_map(EXAMPLES / "jordan-2026-11-12.yaml")
EVIL = '<script>alert("x")</script><b onclick="x()">Bob</b>'

# Elements FHIR allows in a narrative (R4, Narrative: xhtml rules), a subset is enough here.
NARRATIVE_ELEMENTS = {"div", "p", "h3", "ul", "li", "table", "thead", "tbody", "tr", "th", "td", "b", "i", "span"}


def evil_new() -> object:
    return replace(NEW, connections=tuple(replace(c, label=EVIL) if c.id == "sue" else c for c in NEW.connections))


def test_summary_html_has_maps_changes_goals_measures_and_words() -> None:
    html = review_html([NEW, OLD])
    assert html.count("<svg") == 2
    assert "<script" not in html and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    for text in ("What changed", "Goal progress", "Network measures", "The network now, in words"):
        assert text in html
    assert "2 of 2 done" in html and "8 change(s) marked" in html
    assert "Maps of 2026-05-14, 2026-11-12" in html


def test_summary_escapes_labels() -> None:
    html = review_html([OLD, evil_new()])  # type: ignore[list-item]
    assert "<script>" not in html and 'onclick="x()"' not in html
    assert "&lt;script&gt;" in html


def test_summary_ids_are_unique_on_the_page() -> None:
    html = review_html([OLD, NEW])
    tree = etree.HTML(html)
    ids = tree.xpath("//@id")
    assert ids and len(ids) == len(set(ids))


def test_review_pdf_command(tmp_path: Path) -> None:
    out = tmp_path / "review.pdf"
    result = CliRunner().invoke(
        main,
        ["review", str(EXAMPLES / "jordan-2026-05-14.yaml"), str(EXAMPLES / "jordan-2026-11-12.yaml"), "-o", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF-")


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
