"""The plans a diff compares and the findings it reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

SECRET = "[secret]"


class Level(IntEnum):
    """How much a finding matters to a reviewer; lower sorts first."""

    ERROR = 0  # a side's program fails: nothing else about that stack is known
    DESTRUCTIVE = 1  # data, links or alerting content is lost
    DISRUPTIVE = 2  # a restart, a rotated credential, alert state starting over
    CHANGE = 3


class Section:
    INFRASTRUCTURE = "Infrastructure"
    DASHBOARDS = "Dashboards"
    ALERTS = "Alert rules"
    SETTINGS = "Settings"
    ORDER = (INFRASTRUCTURE, DASHBOARDS, ALERTS, SETTINGS)


@dataclass(frozen=True)
class Finding:
    """One line of the report; `details` are the before/after lines under it."""

    section: str
    level: Level
    text: str
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class StackPlan:
    """One stack's offline plan (tools.synth's JSON) and its stack file's `config:` mapping.

    `config` is None when unknown (a plan file without it); `error` is set when the program
    failed for this stack, and then `resources` is empty.
    """

    stack: str
    resources: list[dict[str, Any]] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] | None = None
    error: str | None = None

    @classmethod
    def from_plan(cls, document: dict[str, Any], config: dict[str, Any] | None = None) -> StackPlan:
        """A plan as tools.synth prints it; a top-level `config` mapping is used if present."""
        if not isinstance(document.get("resources"), list):
            raise ValueError("not an offline plan: no `resources` list")
        if config is None and isinstance(document.get("config"), dict):
            config = document["config"]
        return cls(
            stack=str(document.get("stack", "")),
            resources=document["resources"],
            outputs=document.get("outputs") or {},
            config=config,
        )

    def by_key(self) -> dict[tuple[str, str], dict[str, Any]]:
        return {(r["type"], r["name"]): r for r in self.resources}

    def of_type(self, type_token: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["type"] == type_token]


# One side of a diff: stack name -> its plan.
Side = dict[str, StackPlan]
