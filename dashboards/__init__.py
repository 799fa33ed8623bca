"""Every dashboard llm-o11y ships, each in a fixed-UID folder, as typed Python.

`render_all()` is the single source of dashboard JSON: Pulumi applies it and
`python -m tools.export dashboards DIR` writes it, so both are the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from grafana_foundation_sdk.builders import dashboard

from dashboards.panels import render


@dataclass(frozen=True)
class Folder:
    uid: str
    title: str


@dataclass(frozen=True)
class DashboardSpec:
    uid: str
    folder: Folder
    build: Callable[[], dashboard.Dashboard]


COST_FOLDER = Folder("llm-o11y-cost", "LLM Cost & Usage")
OPERATIONS_FOLDER = Folder("llm-o11y-operations", "LLM Operations")
STACK_FOLDER = Folder("llm-o11y-stack", "Observability Stack")

DASHBOARDS: list[DashboardSpec] = []


def folders() -> list[Folder]:
    """The folders that hold at least one dashboard, in a stable order."""
    return sorted({spec.folder for spec in DASHBOARDS}, key=lambda folder: folder.uid)


def render_all() -> dict[str, dict[str, Any]]:
    """Dashboard UID -> the dashboard's JSON model."""
    return {spec.uid: render(spec.build()) for spec in DASHBOARDS}
