"""The CarePlan's generated narrative: short, escaped XHTML that obeys FHIR's narrative rules.

Only ``div``, ``p``, ``b``, ``ul`` and ``li`` are used; no attributes but the XHTML namespace
on the root, so no scripts, forms or event handlers can appear. Every piece of text from the
map is escaped, and characters XML cannot hold are replaced.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

from wb_fhir.measures import measure
from wb_fhir.model import WellbeingMap
from wb_fhir.terminology import Kind, display

XHTML_NS = "http://www.w3.org/1999/xhtml"
ALLOWED_ELEMENTS = frozenset({"div", "p", "b", "ul", "li"})

# Characters XML 1.0 cannot contain (controls other than tab, newline, return; surrogates; FFFE/FFFF).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def text(value: object) -> str:
    """Text made safe for XHTML content and attributes."""
    return html.escape(_NOT_XML.sub("\ufffd", str(value)), quote=True)


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def care_plan_narrative(wmap: WellbeingMap, asset_names: Mapping[str, str] | None = None) -> str:
    """The XHTML ``div`` summarising a map's plan: network, goals, sign-posts (assets by name), next review."""
    names = asset_names or {}
    m = measure(wmap)
    labels = {c.id: c.label for c in wmap.connections} | {g.id: g.description for g in wmap.goals}
    home = f"; waking time at home {m.time_at_home}%" if m.time_at_home is not None else ""
    parts = [
        f'<div xmlns="{XHTML_NS}">',
        f"<p><b>Wellbeing plan for {text(wmap.display_name)}</b>, {wmap.date.isoformat()}</p>",
        f"<p>{_plural(m.size, 'current connection', 'current connections')}: "
        f"{_plural(m.by_kind[Kind.PERSON], 'person', 'people')}, {_plural(m.by_kind[Kind.PLACE], 'place', 'places')}, "
        f"{_plural(m.by_kind[Kind.ACTIVITY], 'activity', 'activities')}; {m.positive} positive, {m.negative} negative, "
        f"{m.mixed} mixed{home}.</p>",
    ]
    if wmap.goals:
        parts.append("<p><b>Goals</b></p><ul>")
        for g in wmap.goals:
            done = sum(1 for ms in g.milestones if ms.done)
            steps = f", {done} of {_plural(len(g.milestones), 'milestone', 'milestones')} done" if g.milestones else ""
            parts.append(f"<li>{text(g.description)} ({text(display(g.status))}{steps})</li>")
        parts.append("</ul>")
    if wmap.signposts:
        parts.append("<p><b>Sign-posts</b></p><ul>")
        for s in wmap.signposts:
            reason = labels.get(s.reason, s.reason)
            asset = names.get(s.asset, s.asset)
            parts.append(f"<li>{text(asset)} for {text(reason)} ({text(display(s.status))})</li>")
        parts.append("</ul>")
    if wmap.next_review:
        parts.append(f"<p>Next review: {wmap.next_review.isoformat()}</p>")
    parts.append("</div>")
    return "".join(parts)
