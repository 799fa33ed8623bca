"""Compare two sides stack by stack and render the findings as Markdown."""

from __future__ import annotations

from collections.abc import Callable

from tools.diff.alerts import alerts
from tools.diff.dashboards import dashboards
from tools.diff.infra import infrastructure
from tools.diff.model import Finding, Level, Section, Side, StackPlan
from tools.diff.settings import settings
from tools.diff.values import code

MARKER = "<!-- llm-o11y-semantic-diff -->"
# GitHub refuses comments over 65536 characters.
COMMENT_LIMIT = 60000

DIFFS: tuple[Callable[[StackPlan, StackPlan], list[Finding]], ...] = (
    infrastructure,
    dashboards,
    alerts,
    settings,
)

# Finding -> the stacks it holds for, in order.
Findings = dict[Finding, list[str]]


def stack_findings(stack: str, base: StackPlan | None, head: StackPlan | None) -> list[Finding]:
    if head is None:
        return [
            Finding(
                Section.INFRASTRUCTURE,
                Level.CHANGE,
                f"Stack file of {code(stack)} removed: nothing here deploys it any more; its "
                "resources stay until `pulumi destroy`",
            )
        ]
    if base is None:
        if head.error:
            return [_error("head", head.error)]
        return [
            Finding(
                Section.INFRASTRUCTURE,
                Level.CHANGE,
                f"New stack {code(stack)}: {len(head.resources)} resources to create",
            )
        ]
    errors = [
        _error(side, plan.error) for side, plan in (("base", base), ("head", head)) if plan.error
    ]
    if errors:
        return errors
    return [finding for diff in DIFFS for finding in diff(base, head)]


def _error(side: str, message: str) -> Finding:
    lines = tuple(code(line) for line in message.strip().splitlines()[:6])
    return Finding(
        Section.INFRASTRUCTURE,
        Level.ERROR,
        f"The program fails on the {side} side, so this stack cannot be compared",
        lines,
    )


def compare(base: Side, head: Side) -> Findings:
    found: Findings = {}
    for stack in sorted(set(base) | set(head)):
        for finding in stack_findings(stack, base.get(stack), head.get(stack)):
            stacks = found.setdefault(finding, [])
            if stack not in stacks:
                stacks.append(stack)
    return found


def _bullet(finding: Finding, stacks: list[str], all_stacks: list[str]) -> list[str]:
    where = "" if len(all_stacks) == 1 else " ".join(f"**{s}**" for s in stacks) + " · "
    mark = {Level.ERROR: "❌ ", Level.DESTRUCTIVE: "⚠️ ", Level.DISRUPTIVE: "↻ "}.get(
        finding.level, ""
    )
    lines = [f"- {mark}{where}{finding.text}"]
    lines += [f"  - {detail}" for detail in finding.details]
    return lines


def render(
    found: Findings,
    base_label: str,
    head_label: str,
    stacks: list[str],
    limit: int = COMMENT_LIMIT,
    notes: tuple[str, ...] = (),
) -> str:
    header = [
        MARKER,
        "## What this change does",
        "",
        f"{base_label} → {head_label} · stacks: {', '.join(code(s) for s in stacks) or 'none'}",
        "",
        *(f"{note}\n" for note in notes),
    ]
    if not found:
        return "\n".join([*header, "**No change**: the plans are identical."]) + "\n"
    levels = [f.level for f in found]
    counts = [
        f"{levels.count(Level.ERROR)} failing" if Level.ERROR in levels else "",
        f"**{levels.count(Level.DESTRUCTIVE)} destructive**" if Level.DESTRUCTIVE in levels else "",
        f"{levels.count(Level.DISRUPTIVE)} disruptive" if Level.DISRUPTIVE in levels else "",
        f"{levels.count(Level.CHANGE)} other changes" if Level.CHANGE in levels else "",
    ]
    header += [", ".join(c for c in counts if c) + ".", ""]

    def order(item: tuple[Finding, list[str]]) -> tuple[int, str]:
        return item[0].level, item[0].text

    items = sorted(found.items(), key=order)
    body: list[str] = []
    for level, heading in (
        (Level.ERROR, "### ❌ Not compared: the program fails"),
        (Level.DESTRUCTIVE, "### ⚠️ Destructive, read first"),
    ):
        first = [i for i in items if i[0].level == level]
        if first:
            body += [heading, ""]
            for finding, where in first:
                body += _bullet(finding, where, stacks)
            body.append("")
    for section in Section.ORDER:
        rest = [i for i in items if i[0].section == section and i[0].level > Level.DESTRUCTIVE]
        if not rest:
            continue
        body += [f"### {section}", ""]
        for finding, where in rest:
            body += _bullet(finding, where, stacks)
        body.append("")
    text = "\n".join(header + body)
    if len(text) > limit:
        note = "\n\n… cut to fit a comment: `python -m tools.diff` prints all of it.\n"
        text = text[: limit - len(note)].rsplit("\n", 1)[0] + note
    return text.rstrip("\n") + "\n"
