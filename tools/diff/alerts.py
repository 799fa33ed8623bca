"""Alert rules: threshold, window, `for`, severity, labels, no-data and error states, queries;
and who is notified (contact points and the notification policy)."""

from __future__ import annotations

import json
import re
from typing import Any

from tools.diff.infra import RULE_GROUP
from tools.diff.model import Finding, Level, Section, StackPlan
from tools.diff.values import (
    MISSING,
    before_after,
    change_line,
    change_lines,
    changed_paths,
    code,
    short,
)

CONTACT_POINT = "grafana:alerting/contactPoint:ContactPoint"
POLICY = "grafana:alerting/notificationPolicy:NotificationPolicy"
COMPARISONS = {
    "gt": ">",
    "lt": "<",
    "eq": "=",
    "ne": "!=",
    "gte": ">=",
    "lte": "<=",
    "within_range": "within",
    "outside_range": "outside",
    "within_range_included": "within (inclusive)",
    "outside_range_included": "outside (inclusive)",
}
RANGE = re.compile(r"\[([0-9]+[smhdwy](?:[0-9]+[smhdwy])*|\$__\w+)(?::[^\]]*)?\]")
# Rule fields with their own line; the rest are listed by path.
NAMED = {"uid", "name", "datas", "for", "labels", "noDataState", "execErrState", "annotations"}

MAX_OTHER = 6

Rule = dict[str, Any]


def model_of(stage: dict[str, Any]) -> dict[str, Any]:
    try:
        model = json.loads(stage.get("model") or "{}")
    except ValueError:
        return {}
    return model if isinstance(model, dict) else {}


def threshold(rule: Rule) -> str | None:
    """The threshold stages of a rule, e.g. `C: > 50`."""
    found = []
    for stage in rule.get("datas") or []:
        model = model_of(stage)
        if model.get("type") not in ("threshold", "classic_conditions"):
            continue
        for condition in model.get("conditions") or []:
            evaluator = condition.get("evaluator") or {}
            kind = str(evaluator.get("type"))
            op = COMPARISONS.get(kind, kind)
            params = "..".join(_number(p) for p in evaluator.get("params") or [])
            found.append(f"{op} {params}")
    return "; ".join(found) or None


def _number(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def stage_queries(rule: Rule) -> dict[str, str]:
    """Query and expression text per refId (PromQL, LogQL, math, reduce)."""
    found = {}
    for stage in rule.get("datas") or []:
        model = model_of(stage)
        ref = str(stage.get("refId"))
        if isinstance(model.get("expr"), str):
            found[ref] = model["expr"]
        elif model.get("type") == "math":
            found[ref] = str(model.get("expression"))
        elif model.get("type") == "reduce":
            found[ref] = f"{model.get('reducer')}({model.get('expression')})"
    return found


def window(rule: Rule) -> str | None:
    """How far back the rule looks: range selectors of its queries and the query time range."""
    ranges: list[str] = []
    for text in stage_queries(rule).values():
        for found in RANGE.findall(text):
            if found not in ranges:
                ranges.append(found)
    spans = sorted(
        {
            int((stage.get("relativeTimeRange") or {}).get("from") or 0)
            for stage in rule.get("datas") or []
            if stage.get("datasourceUid") != "__expr__"
        }
    )
    parts = []
    if ranges:
        parts.append("range " + ", ".join(f"[{r}]" for r in ranges))
    if any(spans):
        parts.append("queries the last " + ", ".join(_duration(s) for s in spans))
    return "; ".join(parts) or None


def datasources(rule: Rule) -> str:
    """The datasource uids a rule queries (expression stages left out)."""
    uids = sorted(
        {
            str(stage.get("datasourceUid"))
            for stage in rule.get("datas") or []
            if stage.get("datasourceUid") != "__expr__"
        }
    )
    return ", ".join(uids)


def _duration(seconds: int) -> str:
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def summary(rule: Rule) -> str:
    labels = rule.get("labels") or {}
    parts = [f"threshold {threshold(rule)}" if threshold(rule) else None]
    parts.append(f"for {rule.get('for')}" if rule.get("for") else None)
    parts.append(f"severity {labels['severity']}" if "severity" in labels else None)
    return ", ".join(p for p in parts if p)


def rules_of(plan: StackPlan) -> dict[str, tuple[Rule, str]]:
    """uid (or name) -> (rule, its group's name)."""
    found = {}
    for group in plan.of_type(RULE_GROUP):
        inputs = group.get("inputs") or {}
        for rule in inputs.get("rules") or []:
            found[str(rule.get("uid") or rule.get("name"))] = (rule, str(inputs.get("name")))
    return found


def rule_changes(
    old: Rule, new: Rule, old_group: str, new_group: str
) -> tuple[list[str], list[str]]:
    what: list[str] = []
    details: list[str] = []
    if old.get("name") != new.get("name"):
        what.append(f"renamed from {code(str(old.get('name')))}")
    if old_group != new_group:
        what.append(f"moves from group {code(old_group)} to {code(new_group)}")
    if datasources(old) != datasources(new):
        what.append(f"datasource {code(datasources(old))} → {code(datasources(new))}")
    if threshold(old) != threshold(new):
        what.append(f"threshold {code(str(threshold(old)))} → {code(str(threshold(new)))}")
    if window(old) != window(new):
        what.append(f"window {code(str(window(old)))} → {code(str(window(new)))}")
    if old.get("for") != new.get("for"):
        what.append(f"`for` {short(old.get('for', MISSING))} → {short(new.get('for', MISSING))}")
    old_labels, new_labels = old.get("labels") or {}, new.get("labels") or {}
    if old_labels.get("severity") != new_labels.get("severity"):
        what.append(
            f"severity {short(old_labels.get('severity', MISSING))} → "
            f"{short(new_labels.get('severity', MISSING))}"
        )
    other_labels = [
        change_line(f"label {path}", a, b)
        for path, a, b in changed_paths(
            {k: v for k, v in old_labels.items() if k != "severity"},
            {k: v for k, v in new_labels.items() if k != "severity"},
        )
    ]
    if other_labels:
        what.append("labels")
        details += other_labels
    for field, label in (("noDataState", "no-data state"), ("execErrState", "error state")):
        if old.get(field) != new.get(field):
            what.append(
                f"{label} {short(old.get(field, MISSING))} → {short(new.get(field, MISSING))}"
            )
    old_queries, new_queries = stage_queries(old), stage_queries(new)
    for ref in sorted(set(old_queries) | set(new_queries)):
        if old_queries.get(ref) != new_queries.get(ref):
            what.append(f"query {ref}")
            details += before_after(f"query {ref}", old_queries.get(ref), new_queries.get(ref))
    old_notes, new_notes = old.get("annotations") or {}, new.get("annotations") or {}
    for key in sorted(set(old_notes) | set(new_notes)):
        if old_notes.get(key) != new_notes.get(key):
            what.append(key)
            details += before_after(key, old_notes.get(key), new_notes.get(key))
    # Stage fields already read above as threshold, window, query or datasource.
    seen = {"threshold", "expr", "expression", "reducer", "conditions", "relativeTimeRange"}
    other = changed_paths(
        {k: v for k, v in old.items() if k not in NAMED},
        {k: v for k, v in new.items() if k not in NAMED},
    ) + [
        (f"datas.{path}", x, y)
        for path, x, y in changed_paths(_stages(old), _stages(new))
        if not seen & set(path.replace("[", ".").split("."))
        and not path.endswith(("datasourceUid", "datasource.uid"))
    ]
    if other:
        what.append("other settings")
        details += change_lines(other, MAX_OTHER)
    return what, details


def _stages(rule: Rule) -> dict[str, Any]:
    return {
        str(s.get("refId")): {**{k: v for k, v in s.items() if k != "model"}, "model": model_of(s)}
        for s in rule.get("datas") or []
    }


def rule_findings(base: StackPlan, head: StackPlan) -> list[Finding]:
    old, new = rules_of(base), rules_of(head)
    found = []
    for uid in sorted(set(new) - set(old)):
        rule, group = new[uid]
        name = code(str(rule.get("name")))
        details = [
            line
            for ref, text in sorted(stage_queries(rule).items())
            if "(" in text or "{" in text
            for line in before_after(f"query {ref}", None, text)
        ]
        found.append(
            Finding(
                Section.ALERTS,
                Level.CHANGE,
                f"Rule {name} added to group {code(group)} ({summary(rule)})",
                tuple(details),
            )
        )
    for uid in sorted(set(old) - set(new)):
        rule, group = old[uid]
        found.append(
            Finding(
                Section.ALERTS,
                Level.CHANGE,
                f"Rule {code(str(rule.get('name')))} removed from group {code(group)}: "
                "it no longer evaluates or notifies",
            )
        )
    for uid in sorted(set(old) & set(new)):
        (a, group_a), (b, group_b) = old[uid], new[uid]
        what, details = rule_changes(a, b, group_a, group_b)
        if what:
            found.append(
                Finding(
                    Section.ALERTS,
                    Level.CHANGE,
                    f"Rule {code(str(b.get('name')))}: {'; '.join(what)}",
                    tuple(details),
                )
            )
    found += group_interval_changes(base, head)
    return found


def group_interval_changes(base: StackPlan, head: StackPlan) -> list[Finding]:
    def intervals(plan: StackPlan) -> dict[str, Any]:
        return {
            str((g.get("inputs") or {}).get("name")): (g.get("inputs") or {}).get("intervalSeconds")
            for g in plan.of_type(RULE_GROUP)
        }

    old, new = intervals(base), intervals(head)
    return [
        Finding(
            Section.ALERTS,
            Level.CHANGE,
            f"Group {code(name)} evaluates every {old[name]} s → {new[name]} s",
        )
        for name in sorted(set(old) & set(new))
        if old[name] != new[name]
    ]


def routes(policy: dict[str, Any] | None) -> list[str]:
    """The notification policy as lines: which alerts go to which contact point."""
    if policy is None:
        return []
    inputs = policy.get("inputs") or {}
    lines = [f"default → {inputs.get('contactPoint')}"]
    for child in inputs.get("policies") or []:
        matchers = " ".join(
            f"{m.get('label')}{m.get('match')}{m.get('value')}" for m in child.get("matchers") or []
        )
        timing = f" (repeat {child['repeatInterval']})" if child.get("repeatInterval") else ""
        lines.append(f"{matchers or 'all'} → {child.get('contactPoint')}{timing}")
    return lines


def receiver_findings(base: StackPlan, head: StackPlan) -> list[Finding]:
    found = []
    old = {r["name"]: r for r in base.of_type(CONTACT_POINT)}
    new = {r["name"]: r for r in head.of_type(CONTACT_POINT)}

    def label(resource: dict[str, Any]) -> str:
        inputs = resource.get("inputs") or {}
        kinds = sorted(k for k, v in inputs.items() if isinstance(v, list) and v)
        return f"{code(str(inputs.get('name')))} ({', '.join(kinds) or 'no integration'})"

    for name in sorted(set(new) - set(old)):
        found.append(Finding(Section.ALERTS, Level.CHANGE, f"Receiver {label(new[name])} added"))
    for name in sorted(set(old) - set(new)):
        found.append(Finding(Section.ALERTS, Level.CHANGE, f"Receiver {label(old[name])} removed"))
    for name in sorted(set(old) & set(new)):
        paths = changed_paths(old[name].get("inputs") or {}, new[name].get("inputs") or {})
        if paths:
            found.append(
                Finding(
                    Section.ALERTS,
                    Level.CHANGE,
                    f"Receiver {label(new[name])} changes",
                    tuple(change_line(p, a, b) for p, a, b in paths),
                )
            )
    old_policy = next(iter(base.of_type(POLICY)), None)
    new_policy = next(iter(head.of_type(POLICY)), None)
    before, after = routes(old_policy), routes(new_policy)
    if before != after:
        lines = [f"+ {code(line)}" for line in after if line not in before]
        lines += [f"- {code(line)}" for line in before if line not in after]
        if not new_policy:
            lines.append("no notification policy: nobody is notified")
        timing = changed_paths(
            {k: v for k, v in ((old_policy or {}).get("inputs") or {}).items() if k != "policies"},
            {k: v for k, v in ((new_policy or {}).get("inputs") or {}).items() if k != "policies"},
        )
        lines += [change_line(p, a, b) for p, a, b in timing if p != "contactPoint"]
        found.append(Finding(Section.ALERTS, Level.CHANGE, "Who is notified changes", tuple(lines)))
    return found


def alerts(base: StackPlan, head: StackPlan) -> list[Finding]:
    return rule_findings(base, head) + receiver_findings(base, head)
