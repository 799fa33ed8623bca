"""Structural differences between two JSON values, and short renderings of values."""

from __future__ import annotations

import json
from typing import Any

from tools.diff.model import SECRET

MISSING = object()
INLINE_LIMIT = 80


def parse_json_text(value: Any) -> Any:
    """A JSON object or array held in a string (e.g. `configJson`), parsed; else the value."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def changed_paths(before: Any, after: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """(path, before, after) for each leaf that differs; MISSING marks an absent side.

    JSON held in strings is compared structurally. Lists of scalars compare as wholes (their
    rendering shows what was added and removed); lists of mappings compare item by item.
    """
    before, after = parse_json_text(before), parse_json_text(after)
    if before == after:
        return []
    if isinstance(before, dict) and after is MISSING:
        after = {}
    if isinstance(after, dict) and before is MISSING:
        before = {}
    if isinstance(before, dict) and isinstance(after, dict):
        found = []
        for key in sorted(set(before) | set(after), key=str):
            sub = f"{path}.{key}" if path else str(key)
            found += changed_paths(before.get(key, MISSING), after.get(key, MISSING), sub)
        return found
    if (
        isinstance(before, list)
        and isinstance(after, list)
        and any(isinstance(v, dict) for v in before + after)
    ):
        found = []
        for index in range(max(len(before), len(after))):
            old = before[index] if index < len(before) else MISSING
            new = after[index] if index < len(after) else MISSING
            found += changed_paths(old, new, f"{path}[{index}]")
        return found
    return [(path, before, after)]


def top_level(path: str) -> str:
    return path.split(".", 1)[0].split("[", 1)[0]


def short(value: Any, limit: int = INLINE_LIMIT) -> str:
    """A value as inline Markdown code, cut to `limit` characters."""
    if value is MISSING:
        return "(unset)"
    if value == SECRET:
        return "(secret)"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return code(text)


def code(text: str) -> str:
    """Inline code that survives backticks inside the text."""
    text = text.replace("\n", " ")
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def change_line(path: str, before: Any, after: Any) -> str:
    """`path`: before → after, with added/removed items for lists of scalars."""
    if isinstance(before, list) and isinstance(after, list):
        added = [v for v in after if v not in before]
        removed = [v for v in before if v not in after]
        if added or removed:
            parts = [f"+ {short(v)}" for v in added] + [f"- {short(v)}" for v in removed]
            return f"{code(path)}: {', '.join(parts)}"
        return f"{code(path)}: reordered"
    if before == SECRET or after == SECRET:
        if before is MISSING:
            return f"{code(path)}: set (secret)"
        if after is MISSING:
            return f"{code(path)}: removed (secret)"
    return f"{code(path)}: {short(before)} → {short(after)}"


def change_lines(changes: list[tuple[str, Any, Any]], limit: int = 8) -> list[str]:
    """A line per (path, before, after), at most `limit` and a count of the rest."""
    lines = [change_line(path, before, after) for path, before, after in changes[:limit]]
    if len(changes) > limit:
        lines.append(f"and {len(changes) - limit} more")
    return lines


def excerpt_pair(before: str, after: str, context: int = 40) -> tuple[str, str]:
    """The part of two long texts around where they differ, with `…` for what is cut."""
    if len(before) <= 2 * context + 40 and len(after) <= 2 * context + 40:
        return before, after
    start = 0
    while start < min(len(before), len(after)) and before[start] == after[start]:
        start += 1
    end = 0
    while (
        end < min(len(before), len(after)) - start
        and before[len(before) - 1 - end] == after[len(after) - 1 - end]
    ):
        end += 1
    lo = max(0, start - context)
    head = "…" if lo > 0 else ""

    def cut(text: str) -> str:
        hi = min(len(text), len(text) - end + context)
        tail = "…" if hi < len(text) else ""
        return head + text[lo:hi] + tail

    return cut(before), cut(after)


def _cut(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def before_after(label: str, before: str | None, after: str | None) -> tuple[str, ...]:
    """Detail lines for a changed text (a query, a description): before and after."""
    if before is None:
        return (f"{label} (new): {code(_cut(after or ''))}",)
    if after is None:
        return (f"{label} (removed): {code(_cut(before))}",)
    old, new = excerpt_pair(before, after)
    return (f"{label} before: {code(old)}", f"{label} after: {code(new)}")
