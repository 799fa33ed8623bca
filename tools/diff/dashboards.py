"""Dashboards: added and removed, panels added, removed, moved or renamed, and for each changed
panel its query, unit, thresholds and description, before and after."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tools.diff.infra import DASHBOARD, count
from tools.diff.model import Finding, Level, Section, StackPlan
from tools.diff.replacement import dashboard_uid
from tools.diff.values import (
    MISSING,
    before_after,
    change_line,
    change_lines,
    changed_paths,
    code,
)

# Where a target keeps its query text, by datasource kind.
QUERY_KEYS = ("expr", "expression", "query", "rawSql", "queryText")
# Panel fields reported on their own lines; any other change is listed by path.
NAMED = {"id", "gridPos", "title", "type", "targets", "description", "datasource", "panels"}
NAMED_DEFAULTS = {"unit", "thresholds"}
MAX_OTHER = 6


@dataclass(frozen=True)
class Panel:
    model: dict[str, Any]
    row: str | None
    order: int

    @property
    def title(self) -> str:
        return str(self.model.get("title") or f"(untitled panel {self.model.get('id')})")

    @property
    def size(self) -> tuple[Any, Any]:
        grid = self.model.get("gridPos") or {}
        return grid.get("w"), grid.get("h")


def dashboard_model(resource: dict[str, Any]) -> dict[str, Any]:
    try:
        model = json.loads((resource.get("inputs") or {}).get("configJson") or "{}")
    except ValueError:
        return {}
    return model if isinstance(model, dict) else {}


def panels_of(model: dict[str, Any]) -> list[Panel]:
    """Every panel in reading order, with the row it sits under (rows are not panels here)."""
    found: list[Panel] = []
    row: str | None = None

    def position(panel: dict[str, Any]) -> tuple[Any, Any]:
        grid = panel.get("gridPos") or {}
        return grid.get("y", 0), grid.get("x", 0)

    for panel in sorted(model.get("panels") or [], key=position):
        if panel.get("type") == "row":
            row = str(panel.get("title") or "")
            for child in sorted(panel.get("panels") or [], key=position):
                found.append(Panel(child, row, len(found)))
            continue
        found.append(Panel(panel, row, len(found)))
    return found


def queries(panel: dict[str, Any]) -> dict[str, str]:
    found = {}
    for index, target in enumerate(panel.get("targets") or []):
        ref = str(target.get("refId") or index)
        text = next((target[k] for k in QUERY_KEYS if isinstance(target.get(k), str)), None)
        if text is not None:
            found[ref] = text
    return found


def thresholds(panel: dict[str, Any]) -> str | None:
    config = ((panel.get("fieldConfig") or {}).get("defaults") or {}).get("thresholds")
    if not config:
        return None
    steps = []
    for step in config.get("steps") or []:
        value = step.get("value")
        steps.append(str(step.get("color")) + ("" if value is None else f" from {value}"))
    mode = "" if config.get("mode") in (None, "absolute") else f" ({config['mode']})"
    return ", ".join(steps) + mode


def unit(panel: dict[str, Any]) -> Any:
    return ((panel.get("fieldConfig") or {}).get("defaults") or {}).get("unit")


def match_panels(old: list[Panel], new: list[Panel]) -> list[tuple[Panel, Panel]]:
    """Pairs the same panel across sides: by a unique title, then by identical queries."""
    pairs: list[tuple[Panel, Panel]] = []
    left, right = list(old), list(new)
    for panel in list(left):
        same = [p for p in right if p.title == panel.title]
        if len(same) == 1 and sum(p.title == panel.title for p in left) == 1:
            pairs.append((panel, same[0]))
            left.remove(panel)
            right.remove(same[0])
    for panel in list(left):
        text = queries(panel.model)
        same = [p for p in right if text and queries(p.model) == text]
        if len(same) == 1:
            pairs.append((panel, same[0]))
            left.remove(panel)
            right.remove(same[0])
    return pairs


def moved(pairs: list[tuple[Panel, Panel]]) -> set[int]:
    """Orders (old side) of matched panels outside the longest run kept in the same order:
    those a reviewer sees move, not the ones merely pushed down by an insertion."""
    by_old = sorted(pairs, key=lambda p: p[0].order)
    sequence = [new.order for _, new in by_old]
    best: list[list[int]] = []
    for index, value in enumerate(sequence):
        chain: list[int] = []
        for candidate in best:
            if sequence[candidate[-1]] < value and len(candidate) > len(chain):
                chain = candidate
        best.append([*chain, index])
    longest: list[int] = []
    for chain in best:
        longest = chain if len(chain) > len(longest) else longest
    keep = set(longest)
    return {by_old[i][0].order for i in range(len(by_old)) if i not in keep}


def renamed_rows(
    old: list[Panel], new: list[Panel], pairs: list[tuple[Panel, Panel]]
) -> dict[str, str]:
    """Rows whose title changed: every panel of an old row that is gone went to one new row."""
    old_rows = {p.row for p in old}
    new_rows = {p.row for p in new}
    targets: dict[str, set[str | None]] = {}
    for a, b in pairs:
        if a.row is not None and a.row not in new_rows:
            targets.setdefault(a.row, set()).add(b.row)
    renames: dict[str, str] = {}
    for row, to in targets.items():
        target = next(iter(to))
        if len(to) == 1 and target is not None and target not in old_rows:
            renames[row] = target
    return renames


def panel_changes(
    old: Panel, new: Panel, moved_out_of_order: bool, rows: dict[str, str]
) -> tuple[list[str], list[str]]:
    """(what changed, detail lines) for one matched panel; `rows` maps renamed rows."""
    what: list[str] = []
    details: list[str] = []
    a, b = old.model, new.model
    if old.title != new.title:
        what.append(f"renamed from {code(old.title)}")
    if old.row != new.row and (old.row is None or rows.get(old.row) != new.row):
        what.append(f"moved from row {code(str(old.row))} to {code(str(new.row))}")
    elif moved_out_of_order:
        what.append("moved")
    if old.size != new.size:
        what.append(f"resized {old.size[0]}x{old.size[1]} → {new.size[0]}x{new.size[1]}")
    if a.get("type") != b.get("type"):
        what.append(f"visualization {code(str(a.get('type')))} → {code(str(b.get('type')))}")
    old_queries, new_queries = queries(a), queries(b)
    for ref in sorted(set(old_queries) | set(new_queries)):
        if old_queries.get(ref) != new_queries.get(ref):
            what.append(f"query {ref}")
            details += before_after(f"query {ref}", old_queries.get(ref), new_queries.get(ref))
    if unit(a) != unit(b):
        what.append(f"unit {code(str(unit(a)))} → {code(str(unit(b)))}")
    if thresholds(a) != thresholds(b):
        what.append("thresholds")
        details += before_after("thresholds", thresholds(a), thresholds(b))
    if a.get("description") != b.get("description"):
        what.append("description")
        details += before_after("description", a.get("description"), b.get("description"))
    if a.get("datasource") != b.get("datasource"):
        what.append("datasource")
        details.append(change_line("datasource", a.get("datasource"), b.get("datasource")))
    other = [
        (path, x, y)
        for path, x, y in changed_paths(
            {k: v for k, v in a.items() if k not in NAMED},
            {k: v for k, v in b.items() if k not in NAMED},
        )
        if not any(path.startswith(f"fieldConfig.defaults.{n}") for n in NAMED_DEFAULTS)
    ]
    other += [
        (f"targets.{path}", x, y)
        for path, x, y in changed_paths(_target_settings(a), _target_settings(b))
    ]
    if other:
        what.append("other settings")
        details += change_lines(other, MAX_OTHER)
    return what, details


def _target_settings(panel: dict[str, Any]) -> dict[str, Any]:
    """Each target's settings other than its query text, keyed by refId."""
    return {
        str(t.get("refId") or i): {k: v for k, v in t.items() if k not in QUERY_KEYS}
        for i, t in enumerate(panel.get("targets") or [])
    }


def dashboard_level(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Changes to the dashboard itself: title, variables, time, tags, links, other settings."""
    lines = []
    if old.get("title") != new.get("title"):
        lines.append(change_line("title", old.get("title"), new.get("title")))
    variables_old = {v.get("name"): v for v in (old.get("templating") or {}).get("list") or []}
    variables_new = {v.get("name"): v for v in (new.get("templating") or {}).get("list") or []}
    for name in sorted(set(variables_old) | set(variables_new), key=str):
        a, b = variables_old.get(name), variables_new.get(name)
        if a is not None and b is not None:
            for path, x, y in changed_paths(_variable(a), _variable(b)):
                lines.append(change_line(f"variable {name}: {path}", x, y))
        elif b is not None:
            lines.append(f"variable {code(str(name))} added ({code(str(b.get('query')))})")
        else:
            lines.append(f"variable {code(str(name))} removed")
    rest = {"title", "templating", "panels", "uid", "id", "version"}
    for path, x, y in changed_paths(
        {k: v for k, v in old.items() if k not in rest},
        {k: v for k, v in new.items() if k not in rest},
    ):
        lines.append(change_line(path, x, y))
    return lines


def _variable(variable: dict[str, Any]) -> dict[str, Any]:
    """A template variable with its current selection read as its default value."""
    rest = {k: v for k, v in variable.items() if k != "current"}
    return {**rest, "default": (variable.get("current") or {}).get("value")}


def dashboard_changes(title: str, old: dict[str, Any], new: dict[str, Any]) -> list[Finding]:
    found = []
    subject = f"Dashboard {code(title)}"
    level_lines = dashboard_level(old, new)
    if level_lines:
        found.append(
            Finding(Section.DASHBOARDS, Level.CHANGE, f"{subject}: settings", tuple(level_lines))
        )
    old_panels, new_panels = panels_of(old), panels_of(new)
    pairs = match_panels(old_panels, new_panels)
    out_of_order = moved(pairs)
    rows = renamed_rows(old_panels, new_panels, pairs)
    for before, after in sorted(rows.items()):
        found.append(
            Finding(
                Section.DASHBOARDS,
                Level.CHANGE,
                f"{subject}: row {code(before)} renamed to {code(after)}",
            )
        )
    for panel in old_panels:
        if all(panel is not a for a, _ in pairs):
            found.append(
                Finding(
                    Section.DASHBOARDS,
                    Level.CHANGE,
                    f"{subject}: panel {code(panel.title)} removed",
                )
            )
    for panel in new_panels:
        if all(panel is not b for _, b in pairs):
            where = f" in row {code(panel.row)}" if panel.row else ""
            text = queries(panel.model)
            found.append(
                Finding(
                    Section.DASHBOARDS,
                    Level.CHANGE,
                    f"{subject}: panel {code(panel.title)} added{where}",
                    tuple(f"query {ref}: {code(q)}" for ref, q in sorted(text.items())),
                )
            )
    for a, b in sorted(pairs, key=lambda p: p[1].order):
        what, details = panel_changes(a, b, a.order in out_of_order, rows)
        if what:
            found.append(
                Finding(
                    Section.DASHBOARDS,
                    Level.CHANGE,
                    f"{subject}: panel {code(b.title)}: {'; '.join(what)}",
                    tuple(details),
                )
            )
    return found


def dashboards(base: StackPlan, head: StackPlan) -> list[Finding]:
    old = {r["name"]: r for r in base.of_type(DASHBOARD)}
    new = {r["name"]: r for r in head.of_type(DASHBOARD)}
    # A dashboard whose logical name changed is still the same dashboard if its uid is.
    by_uid = {dashboard_uid(r.get("inputs") or {}): name for name, r in old.items()}
    found: list[Finding] = []
    matched: set[str] = set()
    for name, resource in sorted(new.items()):
        partner = name if name in old else by_uid.get(dashboard_uid(resource.get("inputs") or {}))
        model = dashboard_model(resource)
        title = str(model.get("title") or name)
        if partner is None or partner in matched:
            found.append(
                Finding(
                    Section.DASHBOARDS,
                    Level.CHANGE,
                    f"Dashboard {code(title)} added ({count(len(panels_of(model)), 'panel')}, uid "
                    f"{code(str(model.get('uid')))})",
                )
            )
            continue
        matched.add(partner)
        before = old[partner]
        old_folder = (before.get("inputs") or {}).get("folder", MISSING)
        new_folder = (resource.get("inputs") or {}).get("folder", MISSING)
        if old_folder != new_folder:
            found.append(
                Finding(
                    Section.DASHBOARDS,
                    Level.CHANGE,
                    f"Dashboard {code(title)} moves to another folder",
                    (change_line("folder", old_folder, new_folder),),
                )
            )
        found += dashboard_changes(title, dashboard_model(before), model)
    for name in sorted(set(old) - matched):
        model = dashboard_model(old[name])
        found.append(
            Finding(
                Section.DASHBOARDS,
                Level.CHANGE,
                f"Dashboard {code(str(model.get('title') or name))} removed",
            )
        )
    return found
