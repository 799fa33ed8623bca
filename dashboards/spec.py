"""What a dashboard module declares: its UID, its folder and how to build it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from grafana_foundation_sdk.builders import dashboard

from vocabulary.pricing import PricingTable


@dataclass(frozen=True)
class Folder:
    uid: str
    title: str


@dataclass(frozen=True)
class DashboardSpec:
    """`build` takes the pricing table the program loaded: panels that quote prices or find
    unpriced models read it, none reads configs/pricing.yaml itself."""

    uid: str
    folder: Folder
    build: Callable[[PricingTable], dashboard.Dashboard]


def without_prices(
    build: Callable[[], dashboard.Dashboard],
) -> Callable[[PricingTable], dashboard.Dashboard]:
    """A builder for DashboardSpec from one whose panels need no pricing table."""
    return lambda _table: build()


COST_FOLDER = Folder("llm-o11y-cost", "LLM Cost & Usage")
OPERATIONS_FOLDER = Folder("llm-o11y-operations", "LLM Operations")
STACK_FOLDER = Folder("llm-o11y-stack", "Observability Stack")
