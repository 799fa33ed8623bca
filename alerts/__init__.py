"""Alert rules, one module per domain (cost, reliability, traffic, pipeline, agents) over
alerts/base.py.

Every query comes from the vocabulary (vocabulary/measures.py), so a rule measures what the
dashboard panel it links shows. components/alerting.py declares them in Grafana.
"""

from __future__ import annotations

from alerts.agents import agent_rules
from alerts.base import GROUP_INTERVALS, VALUE, AlertRule, PanelLink, prometheus_rule_groups
from alerts.cost import cost_rules
from alerts.pipeline import pipeline_rules
from alerts.reliability import reliability_rules
from alerts.traffic import traffic_rules
from components.settings import AlertThresholds
from vocabulary.pricing import PricingTable

__all__ = [
    "GROUP_INTERVALS",
    "VALUE",
    "AlertRule",
    "PanelLink",
    "alert_rules",
    "prometheus_rule_groups",
]


def alert_rules(thresholds: AlertThresholds, table: PricingTable) -> list[AlertRule]:
    """Every rule, with these thresholds and the pricing table the program loaded."""
    return [
        *cost_rules(thresholds, table),
        *reliability_rules(thresholds),
        *traffic_rules(thresholds),
        *pipeline_rules(),
        *agent_rules(thresholds),
    ]
