"""Text in every script is shaped, right to left where it should be, and measured as drawn.

The drawing engine (librsvg with Pango, into a PDF, rasterised by PDFium) is compared with
HarfBuzz itself: the same string shaped by uharfbuzz with the same font file and drawn glyph
by glyph. Each comparison is shown to bite: the string drawn *without* shaping (each
character's own glyph, left to right) fails it.
"""

from __future__ import annotations

import io
import subprocess
from functools import cache
from html import escape

import cairocffi
import pytest
import uharfbuzz as hb
from fontTools.pens.basePen import BasePen
from PIL import Image, ImageChops

from wb_fhir.render import _text
from wb_fhir.render.raster import pdf_to_png, placement, svg_to_pdf

SIZE = 40.0
WIDTH, HEIGHT = 900, 90
BASELINE = 60.0
SAMPLES = {
    "ar": "صديقي أحمد",
    "ur": "امی جان کرکٹ کلب",
    "bn": "দিদি রান্না বন্ধু",
    "pa": "ਗੁਰਦੁਆਰਾ ਕਿਤਾਬ ਪ੍ਰੀਤ ਸ੍ਰੀ ਕਿਰਪਾ",
    "gu": "મંદિર ગરબા કિશોર મિત્ર",
    "ta": "அம்மாவின் தோழி கோயில்",
    "zh": "李阿姨 太极拳 社区中心",
    "pl": "Babcia Zośka z Łodzi",
    "cy": "Côr Meibion, Ŵyr a Chapel",
}
SHAPED_SCRIPTS = ("ar", "ur", "bn", "pa", "gu", "ta")
"""Scripts whose look depends on shaping: unshaped, they must fail the comparison."""
MATCH = 0.8
"""Least overlap (intersection over union of inked pixels) of a drawing with HarfBuzz's."""


def _svg(text: str, lang: str | None) -> bytes:
    family = _text.font_family_css(lang) or _text.FONT_FAMILY_CSS
    direction = ' direction="rtl"' if _text.direction(text) == "rtl" else ""
    lang_attr = f' xml:lang="{lang}"' if lang else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}">'
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#FFFFFF"/>'
        f'<text x="{WIDTH / 2}" y="{BASELINE}" font-size="{SIZE}" text-anchor="middle" '
        f'font-family="{escape(family)}"{lang_attr}{direction}>{escape(text)}</text></svg>'
    ).encode()


class _Box:
    width, height = WIDTH, HEIGHT


def drawn(text: str, lang: str | None) -> Image.Image:
    """``text`` as the map's PNGs draw it."""
    where = placement(_Box(), None)  # type: ignore[arg-type]
    pdf = svg_to_pdf(_svg(text, lang), WIDTH, HEIGHT, where, created="2026-01-01T00:00:00Z", title="t")
    png, _ = pdf_to_png(pdf, where, WIDTH, HEIGHT, 1.0)
    return Image.open(io.BytesIO(png)).convert("RGB")


@cache
def _font(family: str) -> hb.Font:
    found = subprocess.run(
        ["fc-match", "-f", "%{file}\n%{index}", family], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    face = hb.Face(hb.Blob.from_file_path(found[0]), int(found[1]))
    return hb.Font(face)


class _CairoPen(BasePen):  # type: ignore[misc]
    def __init__(self, context: cairocffi.Context) -> None:
        super().__init__(None)
        self.context = context

    def _moveTo(self, p: tuple[float, float]) -> None:
        self.context.move_to(*p)

    def _lineTo(self, p: tuple[float, float]) -> None:
        self.context.line_to(*p)

    def _curveToOne(self, a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]) -> None:
        self.context.curve_to(*a, *b, *c)

    def _qCurveToOne(self, a: tuple[float, float], b: tuple[float, float]) -> None:
        x0, y0 = self.context.get_current_point()
        self.context.curve_to(
            x0 + 2 / 3 * (a[0] - x0),
            y0 + 2 / 3 * (a[1] - y0),
            b[0] + 2 / 3 * (a[0] - b[0]),
            b[1] + 2 / 3 * (a[1] - b[1]),
            *b,
        )

    def _closePath(self) -> None:
        self.context.close_path()


def harfbuzz(text: str, lang: str | None, *, shaped: bool = True) -> Image.Image:
    """``text`` shaped by HarfBuzz with the font the map puts first for ``lang``, drawn glyph by
    glyph, centred like the map's labels; or, unshaped, each character's own glyph in turn."""
    font = _font(_text.families(lang)[0] if lang in _text.FONT_FIRST else "DejaVu Sans")
    if shaped:
        buffer = hb.Buffer()
        buffer.add_str(text)
        buffer.guess_segment_properties()
        if lang:
            buffer.language = lang
        hb.shape(font, buffer, {})
        glyphs = [
            (i.codepoint, p.x_advance, p.x_offset, p.y_offset)
            for i, p in zip(buffer.glyph_infos, buffer.glyph_positions, strict=True)
        ]
    else:
        glyphs = []
        for ch in text:
            gid = font.get_nominal_glyph(ord(ch)) or 0
            glyphs.append((gid, font.get_glyph_h_advance(gid), 0, 0))
    units = SIZE / font.face.upem
    total = sum(g[1] for g in glyphs) * units
    surface = cairocffi.ImageSurface(cairocffi.FORMAT_RGB24, WIDTH, HEIGHT)
    context = cairocffi.Context(surface)
    context.set_source_rgb(1, 1, 1)
    context.paint()
    context.set_source_rgb(0, 0, 0)
    x = WIDTH / 2 - total / 2
    for gid, advance, dx, dy in glyphs:
        context.save()
        context.translate(x + dx * units, BASELINE - dy * units)
        context.scale(units, -units)
        font.draw_glyph_with_pen(gid, _CairoPen(context))
        context.restore()
        context.fill()
        x += advance * units
    out = io.BytesIO()
    surface.write_to_png(out)
    return Image.open(io.BytesIO(out.getvalue())).convert("RGB")


def _ink(image: Image.Image) -> Image.Image:
    return image.convert("L").point(lambda v: 255 if v < 140 else 0)


def overlap(a: Image.Image, b: Image.Image) -> float:
    """Intersection over union of the inked pixels of two pictures."""
    ink_a, ink_b = _ink(a), _ink(b)
    both = ImageChops.multiply(ink_a, ink_b).histogram()[255]
    either = ImageChops.lighter(ink_a, ink_b).histogram()[255]
    return both / either if either else 1.0


@pytest.mark.parametrize("lang", sorted(SAMPLES))
def test_text_is_drawn_as_harfbuzz_shapes_it(lang: str) -> None:
    text = SAMPLES[lang]
    script_lang = _text.language(text)
    assert overlap(drawn(text, script_lang), harfbuzz(text, script_lang)) > MATCH


@pytest.mark.parametrize("lang", SHAPED_SCRIPTS)
def test_unshaped_text_fails_the_comparison(lang: str) -> None:
    text = SAMPLES[lang]
    assert _text.language(text) == lang
    shaped = harfbuzz(text, lang)
    assert overlap(harfbuzz(text, lang, shaped=False), shaped) < MATCH - 0.1


def test_right_to_left_text_runs_right_to_left() -> None:
    # The Arabic digits of a label stay at its left end, where a right-to-left line ends.
    image = drawn("مسجد 12", "ar")
    digits = harfbuzz("12", None)
    left_half = _ink(image).crop((0, 0, WIDTH // 2, HEIGHT)).getbbox()
    assert left_half is not None
    assert _text.direction("مسجد 12") == "rtl" and _text.direction("12 Gym مسجد") == "ltr"
    assert overlap(image.crop((0, 0, WIDTH // 2, HEIGHT)), digits.crop((0, 0, WIDTH // 2, HEIGHT))) < 1.0


@pytest.mark.parametrize("emoji", ["🐕", "👩‍🍳", "🇵🇰", "☯️"])
def test_emoji_are_drawn_in_colour(emoji: str) -> None:
    image = drawn(emoji, None)
    coloured = sum(1 for r, g, b in image.get_flattened_data() if max(r, g, b) - min(r, g, b) > 60)
    assert coloured > 100, coloured


def test_emoji_sequences_are_one_picture() -> None:
    one = _text.width("🐕", SIZE)
    assert _text.width("👩‍👩‍👧", SIZE) == one and _text.width("👩‍🍳", SIZE) == one and _text.width("🇵🇰", SIZE) == one


@pytest.mark.parametrize("lang", sorted(SAMPLES))
def test_labels_are_measured_as_they_are_drawn(lang: str) -> None:
    """The ink of a drawn label lies within the width the layout measured for it."""
    text = SAMPLES[lang]
    measured = _text.width(text, SIZE)
    box = _ink(drawn(text, _text.language(text))).getbbox()
    assert box is not None
    left, right = WIDTH / 2 - measured / 2, WIDTH / 2 + measured / 2
    assert left - 2 <= box[0] and box[2] <= right + 2, (box, left, right)
    assert box[2] - box[0] > 0.85 * measured


def test_wrapping_follows_the_script() -> None:
    assert _text.wrap("李阿姨太极拳社区中心活动每周三次", 112, 11, 3) == ("李阿姨太极拳社区中心", "活动每周三次")
    assert _text.wrap("Community mental health team", 112, 11, 3) == ("Community mental", "health team")
    assert _text.wrap("Psychotherapeuticallyminded", 112, 11, 3) is None  # one word wider than a line
    assert _text.clusters("ਦਾਦੀ 👩‍👩‍👧 🇵🇰🇬🇧") == ["ਦਾ", "ਦੀ", " ", "👩‍👩‍👧", " ", "🇵🇰", "🇬🇧"]
    cut = _text.truncate("👩‍👩‍👧" * 40, 60, 11)
    assert cut.endswith("…") and "\u200d…" not in cut and _text.width(cut, 11) <= 60
