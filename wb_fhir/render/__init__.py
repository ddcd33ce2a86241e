"""Pictures of wellbeing network maps: layout (geometry), SVG, PNG, PDF and words.

layout_map(wmap, options) -> Layout       positions of everything (no drawing)
render_svg / render_png / render_pdf      one format
render(wmap, "svg"|"png"|"pdf", options)  bytes of any of them
renderings(wmap, options, formats=...)    the formats asked for, laid out and drawn once
legend_svg(marks, ties=...)               the legend alone (one for several maps)
describe(wmap)                            the network in plain words
"""

from wb_fhir.render._options import DEFAULT_MAX_SIZE, HIGHLIGHTS, Rendering, RenderOptions
from wb_fhir.render.describe import describe
from wb_fhir.render.layout import Layout, layout_map
from wb_fhir.render.raster import FORMATS, render, render_pdf, render_png, renderings
from wb_fhir.render.svg import legend_svg, render_svg

__all__ = [
    "DEFAULT_MAX_SIZE",
    "FORMATS",
    "HIGHLIGHTS",
    "Layout",
    "RenderOptions",
    "Rendering",
    "describe",
    "layout_map",
    "legend_svg",
    "render",
    "render_pdf",
    "render_png",
    "render_svg",
    "renderings",
]
