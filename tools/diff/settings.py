"""Settings: which keys of each stack file change; secret values only say "changed"."""

from __future__ import annotations

from typing import Any

from tools.diff.model import Finding, Level, Section, StackPlan
from tools.diff.values import MISSING, code, short


class Secret:
    """A `secure:` value: compared by its ciphertext, never shown."""

    def __init__(self, ciphertext: Any) -> None:
        self.ciphertext = ciphertext

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other.ciphertext == self.ciphertext

    def __hash__(self) -> int:
        return hash(str(self.ciphertext))


def flatten(value: Any, path: str = "") -> dict[str, Any]:
    """Nested config -> {"llm-o11y:alerting.thresholds.dailyBudgetUsd": 50, ...}."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return {path: Secret(value["secure"])}
        found: dict[str, Any] = {}
        for key, item in value.items():
            found.update(flatten(item, f"{path}.{key}" if path else str(key)))
        return found or {path: {}}
    if isinstance(value, list) and any(isinstance(v, dict) for v in value):
        found = {}
        for index, item in enumerate(value):
            found.update(flatten(item, f"{path}[{index}]"))
        return found or {path: []}
    return {path: value}


def setting_line(key: str, old: Any, new: Any) -> str:
    if isinstance(old, Secret) or isinstance(new, Secret):
        if old is MISSING:
            return f"{code(key)}: set (secret)"
        if new is MISSING:
            return f"{code(key)}: removed (secret)"
        return f"{code(key)}: changed (secret)"
    if old is MISSING:
        return f"{code(key)}: set to {short(new)}"
    if new is MISSING:
        return f"{code(key)}: removed (was {short(old)})"
    return f"{code(key)}: {short(old)} → {short(new)}"


def settings(base: StackPlan, head: StackPlan) -> list[Finding]:
    if base.config is None or head.config is None:
        return []
    old, new = flatten(base.config), flatten(head.config)
    lines = [
        setting_line(key, old.get(key, MISSING), new.get(key, MISSING))
        for key in sorted(set(old) | set(new))
        if old.get(key, MISSING) != new.get(key, MISSING)
    ]
    if not lines:
        return []
    return [Finding(Section.SETTINGS, Level.CHANGE, "Stack file keys change", tuple(lines))]
