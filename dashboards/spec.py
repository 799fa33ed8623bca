"""What a dashboard module declares: its UID, its folder and how to build it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from grafana_foundation_sdk.builders import dashboard


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
