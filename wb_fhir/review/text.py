"""The change table as plain text, grouped: connections, ties, measures, goals, sign-posts (pure)."""

from __future__ import annotations

from wb_fhir.review.compare import (
    CHANGE_TEXT,
    Change,
    ConnectionChange,
    GoalChange,
    GoalProgress,
    MapChanges,
    Measure,
    SignpostProgress,
    TieChange,
    Value,
    code_text,
)
from wb_fhir.terminology import TieType, display


def _cut(text: str, limit: int | None) -> str:
    if limit is None or len(text) <= limit:
        return text
    from wb_fhir.render._text import clusters

    pieces = clusters(text)
    return text if len(pieces) <= limit else "".join(pieces[:limit]).rstrip() + "…"


def connection_line(c: ConnectionChange, limit: int | None = None) -> str:
    """What happened to one connection, in words (``moved closer (ring 2 -> 1); impact better...``);
    old and new labels cut to ``limit`` characters when given."""
    parts = []
    for fc in c.changes:
        words = CHANGE_TEXT[fc.change]
        if fc.change in (Change.ADDED, Change.REMOVED):
            status = fc.after if fc.change is Change.ADDED else fc.before
            parts.append(words if status == "current" else f"{words} ({code_text(status, fc.change).lower()})")
        elif fc.change in (Change.BECAME_LOST, Change.BECAME_WISHED_FOR, Change.BECAME_CURRENT):
            parts.append(words)
        elif fc.change in (Change.MOVED_CLOSER, Change.MOVED_FURTHER):
            parts.append(f"{words} (ring {fc.before} -> {fc.after})")
        else:
            before, after = _cut(code_text(fc.before, fc.change), limit), _cut(code_text(fc.after, fc.change), limit)
            parts.append(f"{words} ({before} -> {after})")
    return "; ".join(parts)


def measure_value(value: Value) -> str:
    """One measure as text (yes/no for flags, '-' when not recorded)."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def measure_trend(m: Measure) -> str:
    """'+2', '-1', 'yes -> no' or '' for an unchanged measure."""
    if not m.changed:
        return ""
    numbers = [v for v in (m.before, m.after) if isinstance(v, int | float) and not isinstance(v, bool)]
    if len(numbers) == 2:
        return f"{numbers[1] - numbers[0]:+g}"
    return f"{measure_value(m.before)} -> {measure_value(m.after)}"


GOAL_TEXT: dict[GoalChange, str] = {
    GoalChange.NEW: "new goal",
    GoalChange.CLOSED: "closed",
    GoalChange.REOPENED: "reopened",
    GoalChange.STATUS: "status changed",
    GoalChange.MILESTONE_DONE: "milestone done",
    GoalChange.MILESTONE_ADDED: "milestone added",
    GoalChange.REMOVED: "gone from the map",
}


def goal_line(g: GoalProgress) -> str:
    """Where a goal stands and what changed."""
    before = display(g.status_before) if g.status_before else "-"
    after = display(g.status_after) if g.status_after else "-"
    status = after if before in (after, "-") else f"{before} -> {after}"
    if GoalChange.REMOVED in g.changes:
        status = f"{before}, gone from the map"
    line = f"{status}; milestones {g.milestones_done}/{g.milestones_total} done"
    if g.completed:
        line += "; done since: " + ", ".join(g.completed)
    if g.added_milestones:
        line += "; new: " + ", ".join(g.added_milestones)
    return line


def signpost_line(s: SignpostProgress) -> str:
    """A sign-post's change in words."""
    if s.status_before is None and s.status_after is not None:
        return f"new ({display(s.status_after)})"
    if s.status_after is None and s.status_before is not None:
        return f"gone from the map (was {display(s.status_before)})"
    assert s.status_before is not None and s.status_after is not None
    return f"{display(s.status_before)} -> {display(s.status_after)}"


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return ["  " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=False)) + "  " + r[-1] for r in rows]


def _tie_words(t: TieChange) -> str:
    return f"{t.from_label} {display(TieType(t.type)).lower()} {t.to_label}"


def _goal_changes(g: GoalProgress) -> str:
    return ", ".join(GOAL_TEXT[c] for c in g.changes) or "-"


def format_changes(changes: MapChanges) -> str:
    """The readable change table of ``wb-fhir diff``."""
    out = [f"Changes from {changes.old_date} to {changes.new_date}"]
    out += [f"note: {n}" for n in changes.notes]

    out += ["", f"Connections ({len(changes.connections)} changed)"]
    if changes.connections:
        out += _table([(c.label, c.kind.value, connection_line(c)) for c in changes.connections])
    else:
        out.append("  none")

    out += ["", f"Ties ({len(changes.ties)} changed)"]
    if changes.ties:
        out += _table(
            [
                (
                    "added" if t.change is Change.ADDED else "gone",
                    _tie_words(t),
                    "",
                )
                for t in changes.ties
            ]
        )
    else:
        out.append("  none")

    out += ["", "Measures (before, after, change)"]
    out += _table(
        [(m.label, measure_value(m.before), measure_value(m.after), measure_trend(m)) for m in changes.measures]
    )

    out += ["", "Goals"]
    if changes.goals:
        out += _table(
            [(g.description, ", ".join(GOAL_TEXT[c] for c in g.changes) or "-", goal_line(g)) for g in changes.goals]
        )
    else:
        out.append("  none")

    out += ["", f"Sign-posts ({len(changes.signposts)} changed)"]
    if changes.signposts:
        out += _table([(s.asset, f"for {s.reason}", signpost_line(s)) for s in changes.signposts])
    else:
        out.append("  none")
    return "\n".join(line.rstrip() for line in out) + "\n"
