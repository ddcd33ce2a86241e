"""How long drawing takes, side by side: engines, sizes, formats drawn once or apart, the review.

    PYTHONPATH=. python benchmarks/bench_render.py [--repeat N] [--quick] [--engines-image PATH]

Times are CPU seconds of this process (best of N after a warm-up), so that other jobs on a
shared machine disturb them less; peak memory (RSS) is measured in a fresh process per size.

1. Engines on the multilingual example's SVG (every script and emoji): ours (librsvg into a
   PDF, PDFium for the PNG) against librsvg straight to PNG, cairosvg and resvg (when those are
   installed: ``pip install cairosvg resvg-py``) and WeasyPrint's own SVG drawing; ratios to ours.
   ``--engines-image`` writes their PNGs side by side, to look at.
2. Maps of 30, 150, 1,000 and 2,000 connections (labels up to 300 characters at 2,000): layout,
   SVG, PNG, PDF; the three formats through ``renderings`` (laid out and drawn once) against
   three separate calls; peak memory.
3. The review summary PDF of the example pair, and with a 10,000-emoji label.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from render_samples import generated_map  # noqa: E402

from wb_fhir.mapfile import load_map  # noqa: E402
from wb_fhir.model import WellbeingMap  # noqa: E402
from wb_fhir.render import layout_map, render, render_svg, renderings  # noqa: E402
from wb_fhir.render.svg import svg_from_layout  # noqa: E402


def best(fn: Callable[[], object], repeat: int) -> float:
    """Best CPU seconds of ``repeat`` runs after one warm-up."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def _long_labels(wmap: WellbeingMap, length: int) -> WellbeingMap:
    words = "Community mental health team and friends from the allotment society "
    text = (words * (length // len(words) + 1))[:length]
    return replace(
        wmap,
        connections=tuple(
            replace(c, label=f"{c.label} {text}") if n % 7 == 0 else c for n, c in enumerate(wmap.connections)
        ),
    )


def sample(size: int) -> WellbeingMap:
    """The map of ``size`` connections the figures are about (long labels on the largest)."""
    wmap = generated_map(size)
    return _long_labels(wmap, 300) if size >= 2000 else wmap


# --- 1. engines ------------------------------------------------------------------------


def _ours(svg: bytes, width: float, height: float) -> bytes:
    from wb_fhir.render.raster import pdf_to_png, placement, svg_to_pdf

    class Box:
        pass

    box = Box()
    box.width, box.height = width, height  # type: ignore[attr-defined]
    where = placement(box, None)  # type: ignore[arg-type]
    return pdf_to_png(svg_to_pdf(svg, width, height, where), where, width, height, 1.0)[0]


def _librsvg_png(svg: bytes, width: float, height: float) -> bytes:
    import cairocffi

    from wb_fhir.render import _native

    surface = cairocffi.ImageSurface(cairocffi.FORMAT_ARGB32, int(width), int(height))
    _native.draw_svg(svg, cairocffi.Context(surface), width, height)
    out = io.BytesIO()
    surface.write_to_png(out)
    return out.getvalue()


def _cairosvg(svg: bytes, width: float, height: float) -> bytes:
    import cairosvg  # type: ignore[import-not-found]

    return bytes(cairosvg.svg2png(bytestring=svg))


def _resvg(svg: bytes, width: float, height: float) -> bytes:
    import resvg_py  # type: ignore[import-not-found]

    return bytes(resvg_py.svg_to_bytes(svg_string=svg.decode("utf-8")))


def _weasyprint(svg: bytes, width: float, height: float) -> bytes:
    import pypdfium2
    import weasyprint  # type: ignore[import-untyped]

    html = f"<html><body style='margin:0'>{svg.decode('utf-8').split('?>', 1)[1]}</body></html>"
    pdf = weasyprint.HTML(string=html).write_pdf()
    image = pypdfium2.PdfDocument(pdf)[0].render(scale=96 / 72).to_pil()
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


ENGINES: dict[str, Callable[[bytes, float, float], bytes]] = {
    "librsvg -> PDF -> PDFium (ours)": _ours,
    "librsvg -> PNG": _librsvg_png,
    "cairosvg": _cairosvg,
    "resvg (resvg-py)": _resvg,
    "WeasyPrint SVG": _weasyprint,
}


def engines(repeat: int, image: Path | None) -> None:
    wmap = load_map(ROOT / "examples" / "multilingual.yaml")
    layout = layout_map(wmap)
    svg = svg_from_layout(wmap, layout).encode("utf-8")
    print(f"\n1. Engines, multilingual example ({layout.width} x {layout.height} px), CPU seconds")
    print(f"{'engine':34} {'PNG':>8} {'ratio':>7}")
    pictures: list[tuple[str, bytes]] = []
    base = None
    for name, engine in ENGINES.items():
        try:
            seconds = best(lambda engine=engine: engine(svg, layout.width, layout.height), repeat)  # type: ignore[misc]
        except ImportError:
            print(f"{name:34} {'not installed':>16}")
            continue
        base = base or seconds
        print(f"{name:34} {seconds:8.3f} {seconds / base:6.2f}x")
        pictures.append((name, engine(svg, layout.width, layout.height)))
    if image is not None:
        _side_by_side(pictures, image)
        print(f"wrote {image}")


def _side_by_side(pictures: list[tuple[str, bytes]], path: Path) -> None:
    from PIL import Image, ImageDraw

    crops = []
    for name, png in pictures:
        picture = Image.open(io.BytesIO(png)).convert("RGB")
        if picture.width != 1282:  # WeasyPrint's page is not the drawing's size
            picture = picture.crop((0, 0, 1282, 962))
        crop = picture.crop((380, 340, 800, 720)).resize((630, 570), Image.Resampling.LANCZOS)
        ImageDraw.Draw(crop).text((8, 8), name, fill=(200, 0, 0))
        crops.append(crop)
    columns = 3
    rows = (len(crops) + columns - 1) // columns
    out = Image.new("RGB", (columns * 638, rows * 578), "white")
    for n, crop in enumerate(crops):
        out.paste(crop, ((n % columns) * 638, (n // columns) * 578))
    out.save(path)


# --- 2. sizes --------------------------------------------------------------------------

_PEAK = """
import resource, sys
sys.path.insert(0, {tests!r})
from bench_render import sample
from wb_fhir.render import renderings
renderings(sample({size}))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def peak_mb(size: int) -> int:
    """Peak RSS in MB of a fresh process that draws the map of ``size`` in every format."""
    code = _PEAK.format(tests=str(ROOT / "tests"), size=size)
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'benchmarks'}"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    return int(out.stdout.strip().splitlines()[-1])


def sizes(repeat: int, quick: bool) -> None:
    print("\n2. Maps by size, CPU seconds (ratio: three separate calls / renderings drawing once)")
    head = (
        f"{'connections':>11} {'layout':>7} {'SVG':>7} {'PNG':>7} {'PDF':>7} {'all 3':>7} {'3 apart':>8} {'ratio':>6}"
    )
    print(head + f" {'PNG px':>11} {'peak MB':>8}")
    for size in (30, 150) if quick else (30, 150, 1000, 2000):
        wmap = sample(size)
        n = repeat if size <= 150 else 1
        lay = best(lambda wmap=wmap: layout_map(wmap), n)  # type: ignore[misc]
        svg = best(lambda wmap=wmap: render_svg(wmap), n)  # type: ignore[misc]
        png = best(lambda wmap=wmap: render(wmap, "png"), n)  # type: ignore[misc]
        pdf = best(lambda wmap=wmap: render(wmap, "pdf"), n)  # type: ignore[misc]
        once = best(lambda wmap=wmap: renderings(wmap), n)  # type: ignore[misc]
        apart = svg + png + pdf
        pixels = renderings(wmap, formats=["png"])[0].size
        peak = peak_mb(size)
        print(
            f"{size:>11} {lay:7.2f} {svg:7.2f} {png:7.2f} {pdf:7.2f} {once:7.2f} {apart:8.2f} {apart / once:5.2f}x"
            f" {pixels[0] if pixels else 0:>5}x{pixels[1] if pixels else 0:<5} {peak:>8}"
        )


# --- 3. the review summary -------------------------------------------------------------


def review(repeat: int) -> None:
    from wb_fhir.review.summary import review_pdf

    folder = ROOT / "examples" / "review"
    old, new = load_map(folder / "jordan-2026-05-14.yaml"), load_map(folder / "jordan-2026-11-12.yaml")
    huge = replace(
        new, connections=tuple(replace(c, label="🐕" * 10000) if c.id == "mum" else c for c in new.connections)
    )
    print("\n3. Review summary PDF, CPU seconds")
    plain = best(lambda: review_pdf([old, new]), repeat)
    emoji = best(lambda: review_pdf([old, huge]), 1)
    print(f"{'example pair':34} {plain:8.2f}")
    print(f"{'with a 10,000-emoji label':34} {emoji:8.2f} {emoji / plain:6.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small sizes only (for CI: no thresholds)")
    parser.add_argument("--engines-image", type=Path, help="write the engines' PNGs side by side here")
    parser.add_argument("--only", choices=["engines", "sizes", "review"], help="one part only")
    args = parser.parse_args()
    print(json.dumps({"python": sys.version.split()[0], "repeat": args.repeat}))
    if args.only in (None, "engines"):
        engines(args.repeat, args.engines_image)
    if args.only in (None, "sizes"):
        sizes(args.repeat, args.quick)
    if args.only in (None, "review"):
        review(1 if args.quick else args.repeat)


if __name__ == "__main__":
    main()
