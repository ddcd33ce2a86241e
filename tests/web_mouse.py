"""Mouse and touch on the editor's map: where rings and connections are on the screen."""

from __future__ import annotations

import math
from typing import Any


def wait_drawn(page: Any) -> None:
    """Wait until the map shows the editor's latest change."""
    page.wait_for_function(
        "() => { const m = document.getElementById('map'); const e = document.getElementById('editor');"
        " return m.dataset.drawn === e.dataset.rev; }"
    )


def to_screen(page: Any, x: float, y: float) -> tuple[float, float]:
    """Client (screen) coordinates of a point of the map's SVG."""
    point = page.evaluate(
        """([x, y]) => { const svg = document.querySelector('#map svg');
             const p = new DOMPoint(x, y).matrixTransform(svg.getScreenCTM()); return [p.x, p.y]; }""",
        [x, y],
    )
    return float(point[0]), float(point[1])


def geometry(page: Any) -> dict[str, Any]:
    wait_drawn(page)
    result: dict[str, Any] = page.eval_on_selector("#map", "m => JSON.parse(m.dataset.geometry)")
    return result


def ring_point(page: Any, ring: int, angle: float = 90.0) -> tuple[float, float]:
    """A screen point in the middle of a ring's band (angle in degrees clockwise from the top)."""
    g = geometry(page)
    band = next(b for b in g["bands"] if b["ring"] == ring and not b["lost"])
    r = (band["inner"] + band["outer"]) / 2
    a = math.radians(angle)
    return to_screen(page, g["cx"] + r * math.sin(a), g["cy"] - r * math.cos(a))


def node_point(page: Any, connection_id: str) -> tuple[float, float]:
    g = geometry(page)
    node = next(n for n in g["nodes"] if n["id"] == connection_id)
    return to_screen(page, node["x"], node["y"])


def center_of(page: Any, selector: str) -> tuple[float, float]:
    box = page.locator(selector).bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def mouse_drag(page: Any, start: tuple[float, float], end: tuple[float, float]) -> None:
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(start[0] + 10, start[1] + 10, steps=2)
    page.mouse.move(*end, steps=8)
    page.mouse.up()


def touch_drag(page: Any, start: tuple[float, float], end: tuple[float, float]) -> None:
    """A finger dragged across the screen (Chrome DevTools touch events)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": start[0], "y": start[1]}]})
    for i in range(1, 11):
        x = start[0] + (end[0] - start[0]) * i / 10
        y = start[1] + (end[1] - start[1]) * i / 10
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()
