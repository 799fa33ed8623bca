"""Every dashboard llm-o11y ships, each in a fixed-UID folder, as typed Python.

`render_all(table)` is the single source of dashboard JSON: Pulumi applies it and
`python -m tools.export dashboards DIR` writes it, so both are the same bytes. The pricing table
is passed in (the program or the tool loads it once).
A dashboard module defines `SPEC` (dashboards/spec.py) and is listed in MODULES.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from dashboards import (
    agent_sessions,
    agents_tools,
    api,
    claude_code,
    cost_tokens,
    mission_control,
    stack_health,
    traces_latency,
)
from dashboards.panels import render
from dashboards.spec import DashboardSpec, Folder
from vocabulary.pricing import PricingTable

MODULES: tuple[ModuleType, ...] = (
    cost_tokens,
    claude_code,
    mission_control,
    api,
    agent_sessions,
    agents_tools,
    traces_latency,
    stack_health,
)

DASHBOARDS: list[DashboardSpec] = [module.SPEC for module in MODULES]


def folders() -> list[Folder]:
    """The folders that hold at least one dashboard, in a stable order."""
    return sorted({spec.folder for spec in DASHBOARDS}, key=lambda folder: folder.uid)


def render_all(table: PricingTable) -> dict[str, dict[str, Any]]:
    """Dashboard UID -> the dashboard's JSON model, with `table`'s prices."""
    return {spec.uid: render(spec.build(table)) for spec in DASHBOARDS}
