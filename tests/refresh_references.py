"""Redraw the reference pictures the image-comparison tests compare against.

    python tests/refresh_references.py [FOLDER]

FOLDER defaults to ``tests/reference`` of the checkout. Run it after a deliberate change to
the look of the map, look at the pictures, and commit them with the change.
"""

from __future__ import annotations

import sys
from pathlib import Path

from render_samples import generated_map

from wb_fhir._files import atomic_write
from wb_fhir._resources import data_dir
from wb_fhir.mapfile import load_map
from wb_fhir.model import WellbeingMap
from wb_fhir.render._options import RenderOptions
from wb_fhir.render.raster import render_png

REFERENCE_OPTIONS = RenderOptions(scale=0.5)
"""Half size keeps the committed files small and still shows any change of layout."""


def reference_maps() -> dict[str, WellbeingMap]:
    """The maps with a reference picture, by file stem."""
    examples = data_dir("examples")
    names = ("figure1", "diverse-network", "multilingual", "alone")
    maps = {name: load_map(examples / f"{name}.yaml") for name in names}
    maps["generated-150"] = generated_map(150)
    return maps


def refresh(folder: Path) -> list[Path]:
    """Write one PNG per reference map, and the first pages of the review summary as printed,
    into ``folder``; the paths written."""
    from test_review_summary import ASSETS, NEW, OLD, _printed_pages

    from wb_fhir.review.summary import review_pdf

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, wmap in reference_maps().items():
        path = folder / f"{name}.png"
        atomic_write(path, render_png(wmap, REFERENCE_OPTIONS))
        written.append(path)
    for n, page in enumerate(_printed_pages(review_pdf([OLD, NEW], assets=ASSETS))[:3], start=1):
        path = folder / f"review-page-{n}.png"
        page.save(path)
        written.append(path)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "reference"
    for written_path in refresh(target):
        print(written_path)
