"""The system libraries that shape and draw text: Pango (measuring) and librsvg (drawing).

Both are reached through cffi in ABI mode (no compiler needed), as cairocffi and WeasyPrint
reach cairo and Pango. librsvg lays text out with Pango, so a label measured here has exactly
the width it is drawn with: same shaping (HarfBuzz), same bidi, same font fallback
(fontconfig). Debian packages: ``libpango-1.0-0 libpangocairo-1.0-0 librsvg2-2``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache
from typing import Any

import cffi

from wb_fhir.errors import WbFhirError

_CDEF = """
typedef struct { int x, y, width, height; } PangoRectangle;
typedef struct {
    void *layout; int start_index; int length; void *runs;
    unsigned int is_paragraph_start : 1; unsigned int resolved_dir : 3;
} PangoLayoutLine;
typedef struct _GError { uint32_t domain; int code; char *message; } GError;
typedef struct { double x, y, width, height; } RsvgRectangle;

void g_object_unref(void *object);
void g_error_free(GError *error);

void *pango_cairo_font_map_new(void);
void *pango_font_map_create_context(void *fontmap);
void pango_context_set_round_glyph_positions(void *context, int round);
void pango_context_set_language(void *context, void *language);
void *pango_language_from_string(const char *language);
void pango_context_changed(void *context);
void *pango_layout_new(void *context);
void pango_layout_set_text(void *layout, const char *text, int length);
void pango_layout_set_font_description(void *layout, void *desc);
void pango_layout_set_width(void *layout, int width);
void pango_layout_set_wrap(void *layout, int wrap);
void pango_layout_get_extents(void *layout, PangoRectangle *ink, PangoRectangle *logical);
int pango_layout_get_line_count(void *layout);
PangoLayoutLine *pango_layout_get_line_readonly(void *layout, int line);
void pango_layout_context_changed(void *layout);
void *pango_font_description_new(void);
void pango_font_description_free(void *desc);
void pango_font_description_set_family(void *desc, const char *family);
void pango_font_description_set_weight(void *desc, int weight);
void pango_font_description_set_absolute_size(void *desc, double size);

void *rsvg_handle_new_from_data(const uint8_t *data, size_t data_len, GError **error);
int rsvg_handle_render_document(void *handle, void *cr, const RsvgRectangle *viewport, GError **error);
"""
PANGO_SCALE = 1024
_WRAP_WORD = 0
_WEIGHT_BOLD = 700


@dataclass(frozen=True)
class _Libraries:
    ffi: cffi.FFI
    gobject: Any
    pango: Any
    pangocairo: Any
    rsvg: Any | None


@cache
def _libraries() -> _Libraries:
    ffi = cffi.FFI()
    ffi.cdef(_CDEF)
    try:
        gobject = ffi.dlopen("libgobject-2.0.so.0")
        pango = ffi.dlopen("libpango-1.0.so.0")
        pangocairo = ffi.dlopen("libpangocairo-1.0.so.0")
    except OSError as exc:
        raise WbFhirError(
            f"drawing a map needs the Pango library (Debian: libpango-1.0-0 libpangocairo-1.0-0): {exc}"
        ) from None
    try:
        rsvg = ffi.dlopen("librsvg-2.so.2")
    except OSError:
        rsvg = None  # only PNG and PDF need it: reported when they are asked for
    return _Libraries(ffi, gobject, pango, pangocairo, rsvg)


class _Measurer:
    """One Pango context and layout per thread (Pango objects are not thread-safe)."""

    def __init__(self) -> None:
        libs = _libraries()
        self.libs = libs
        # A font map of our own with cairo's defaults: unhinted metrics, as librsvg uses them.
        self.fontmap = libs.pangocairo.pango_cairo_font_map_new()
        self.context = libs.pango.pango_font_map_create_context(self.fontmap)
        libs.pango.pango_context_set_round_glyph_positions(self.context, 0)
        self.layout = libs.pango.pango_layout_new(self.context)
        self.language = ""
        self.fonts: dict[tuple[str, float, bool], Any] = {}

    def font(self, family: str, size: float, bold: bool) -> Any:
        key = (family, size, bold)
        if key not in self.fonts:
            pango = self.libs.pango
            desc = self.libs.ffi.gc(pango.pango_font_description_new(), pango.pango_font_description_free)
            pango.pango_font_description_set_family(desc, family.encode("utf-8"))
            pango.pango_font_description_set_absolute_size(desc, size * PANGO_SCALE)
            if bold:
                pango.pango_font_description_set_weight(desc, _WEIGHT_BOLD)
            self.fonts[key] = desc
        return self.fonts[key]

    def prepare(self, text: bytes, family: str, size: float, bold: bool, language: str, width: float | None) -> Any:
        pango = self.libs.pango
        if language != self.language:
            # The language picks among fonts that could draw a character (Han in Chinese or Japanese).
            pango.pango_context_set_language(self.context, pango.pango_language_from_string(language.encode("ascii")))
            pango.pango_layout_context_changed(self.layout)
            self.language = language
        pango.pango_layout_set_font_description(self.layout, self.font(family, size, bold))
        pango.pango_layout_set_width(self.layout, -1 if width is None else int(width * PANGO_SCALE))
        pango.pango_layout_set_wrap(self.layout, _WRAP_WORD)
        pango.pango_layout_set_text(self.layout, text, len(text))
        return self.layout


_local = threading.local()


def _measurer() -> _Measurer:
    measurer: _Measurer | None = getattr(_local, "measurer", None)
    if measurer is None:
        measurer = _local.measurer = _Measurer()
    return measurer


def text_width(text: str, family: str, size: float, *, bold: bool = False, language: str = "") -> float:
    """The advance width in px of one line of ``text``, shaped as librsvg draws it."""
    m = _measurer()
    layout = m.prepare(text.encode("utf-8", "replace"), family, size, bold, language, None)
    logical = m.libs.ffi.new("PangoRectangle *")
    m.libs.pango.pango_layout_get_extents(layout, m.libs.ffi.NULL, logical)
    return float(logical.width) / PANGO_SCALE


def break_lines(
    text: str, family: str, size: float, width: float, *, bold: bool = False, language: str = ""
) -> list[str]:
    """``text`` broken into lines of at most ``width`` px by Pango's Unicode line breaking
    (between words, and between characters in scripts without spaces such as Chinese); a
    word wider than a line stays whole, on a line of its own."""
    m = _measurer()
    data = text.encode("utf-8", "replace")  # a lone surrogate cannot reach Pango
    layout = m.prepare(data, family, size, bold, language, width)
    lines = []
    for n in range(m.libs.pango.pango_layout_get_line_count(layout)):
        line = m.libs.pango.pango_layout_get_line_readonly(layout, n)
        lines.append(data[line.start_index : line.start_index + line.length].decode("utf-8").strip())
    return [line for line in lines if line]


def rsvg() -> tuple[cffi.FFI, Any]:
    """cffi and librsvg, or an error naming the package to install."""
    libs = _libraries()
    if libs.rsvg is None:
        raise WbFhirError("PNG and PDF pictures need the librsvg library (Debian: librsvg2-2)")
    return libs.ffi, libs.rsvg


def draw_svg(svg: bytes, cairo_context: Any, width: float, height: float) -> None:
    """Draw an SVG document into a cairocffi context, filling ``width`` x ``height`` user units."""
    import cairocffi

    ffi, lib = rsvg()
    error = ffi.new("GError **")
    handle = lib.rsvg_handle_new_from_data(svg, len(svg), error)
    if handle == ffi.NULL:
        message = ffi.string(error[0].message).decode("utf-8", "replace")
        _libraries().gobject.g_error_free(error[0])
        raise WbFhirError(f"librsvg could not read the drawing: {message}")
    handle = ffi.gc(handle, _libraries().gobject.g_object_unref)
    viewport = ffi.new("RsvgRectangle *", (0.0, 0.0, width, height))
    pointer = ffi.cast("void *", int(cairocffi.ffi.cast("uintptr_t", cairo_context._pointer)))
    if not lib.rsvg_handle_render_document(handle, pointer, viewport, error):
        message = ffi.string(error[0].message).decode("utf-8", "replace")
        _libraries().gobject.g_error_free(error[0])
        raise WbFhirError(f"librsvg could not draw the map: {message}")
