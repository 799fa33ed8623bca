"""What every alert rule is: query, threshold, states, labels, annotations and the panel it links.

Grafana runs the rules (components/alerting.py turns each into query -> reduce -> threshold);
`prometheus_rule_groups()` writes the same expressions, labels and annotations as a Prometheus
rule file only so `promtool test rules` can test them (tests/alert_rules/), beside the recording
rules they read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from components.settings import Severity
from vocabulary import names

Datasource = Literal["prometheus", "loki"]
ThresholdKind = Literal["gt", "lt", "within_range"]

# Stands for the evaluated value in descriptions: Grafana's `$values.B.Value` (the reduce
# step), Prometheus's `$value` in the test mirror.
VALUE = "$VALUE"

COST_GROUP = "LLM cost"
RELIABILITY_GROUP = "LLM reliability"
TRAFFIC_GROUP = "LLM traffic"
# Evaluation interval of each rule group, in seconds; every rule's `for` is a multiple of it.
PIPELINE_GROUP = "Telemetry pipeline"
AGENTS_GROUP = "LLM agents"
GROUP_INTERVALS: Mapping[str, int] = {
    COST_GROUP: 300,
    RELIABILITY_GROUP: 60,
    TRAFFIC_GROUP: 60,
    PIPELINE_GROUP: 60,
    AGENTS_GROUP: 60,
}


@dataclass(frozen=True)
class Threshold:
    """The comparison, made in Grafana's threshold step (never in the query)."""

    kind: ThresholdKind
    params: tuple[float, ...]

    def promql(self, expr: str) -> str:
        """The same comparison as a PromQL filter, for the Prometheus test mirror."""
        if self.kind == "gt":
            return f"({expr}) > {self.params[0]:g}"
        if self.kind == "lt":
            return f"({expr}) < {self.params[0]:g}"
        low, high = self.params
        return f"(({expr}) > {low:g}) < {high:g}"


@dataclass(frozen=True)
class States:
    """What the rule does on No Data and on a query error, and why (one line each)."""

    no_data: Literal["OK", "NoData", "Alerting", "KeepLast"]
    no_data_reason: str
    exec_err: Literal["OK", "Error", "Alerting", "KeepLast"]
    exec_err_reason: str


@dataclass(frozen=True)
class PanelLink:
    """The dashboard and panel (by title) a responder opens first."""

    dashboard_uid: str
    panel_title: str


@dataclass(frozen=True)
class AlertRule:
    uid: str
    title: str
    group: str
    severity: Severity
    datasource: Datasource
    query: str
    # Seconds of data the query reads (Grafana's relative time range `from`).
    window_seconds: int
    threshold: Threshold
    pending: str
    states: States
    summary: str
    description: str
    panel: PanelLink
    # 0/0 ratios and quantiles of empty histograms are NaN: "nothing happened", so quiet.
    nan_is_zero: bool = False

    @property
    def runbook_anchor(self) -> str:
        return markdown_anchor(self.title)


def markdown_anchor(heading: str) -> str:
    """The anchor GitHub (and most Markdown renderers) give a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


# --- states ------------------------------------------------------------------------------------

SPEND_STATES = States(
    "OK",
    "the spend queries fall back to vector(0), so no series means no spend to alert on",
    "KeepLast",
    "a failed query says nothing about spend: keep the last state; the no-traffic rule reports "
    "the datasource error",
)
PER_SERIES_STATES = States(
    "OK",
    "no series means no calls (or sessions) in the window, so nothing over the limit; silence "
    "itself is the no-traffic rule's job",
    "KeepLast",
    "a failed query says nothing about the apps: keep the last state; the no-traffic rule reports "
    "the datasource error",
)
NO_TRAFFIC_STATES = States(
    "OK",
    "no series means no app was seen in the last day (nothing expected) or the collector is "
    "down, which the stack-component rule reports instead",
    "Error",
    "a failed query is a DatasourceError alert, so 'no data source' is never mistaken for "
    "'no traffic'",
)
STACK_STATES = States(
    "OK",
    "no scrape targets means no local stack to watch (Grafana Cloud has none)",
    "Error",
    "the datasource failing is itself a stack failure, reported as a DatasourceError alert",
)


def shown(number_format: str) -> str:
    """The evaluated value in a description, e.g. `shown("%.2f")`."""
    return f'{{{{ printf "{number_format}" {VALUE} }}}}'


def label(name: str) -> str:
    return f"{{{{ $labels.{name} }}}}"


DOLLARS = f"${shown('%.2f')}"
SERVICE = label(names.SERVICE)
OPERATION = f"{label(names.SERVICE)} {label(names.OPERATION)}"

COST_DASHBOARD = "llm-cost-tokens"
SESSIONS_DASHBOARD = "llm-agent-sessions"
AGENTS_DASHBOARD = "llm-agents-tools"
API_DASHBOARD = "llm-api"
TRACES_DASHBOARD = "llm-traces-latency"
MISSION_CONTROL = "llm-mission-control"
STACK_DASHBOARD = "llm-stack-health"


def usd(value: float) -> str:
    return f"${value:,.2f}" if value >= 0.1 else f"${value:g}"


# --- the Prometheus test mirror ----------------------------------------------------------------


def prometheus_rule(rule: AlertRule, team: str, runbook_base_url: str) -> dict[str, Any]:
    return {
        "alert": rule.title,
        "expr": rule.threshold.promql(rule.query),
        "for": rule.pending,
        "labels": {"severity": rule.severity, "team": team},
        "annotations": {
            "summary": rule.summary,
            "description": rule.description.replace(VALUE, "$value"),
            "runbook_url": f"{runbook_base_url}#{rule.runbook_anchor}",
        },
    }


def prometheus_rule_groups(
    rules: list[AlertRule], team: str, runbook_base_url: str
) -> dict[str, Any]:
    """A Prometheus rule file with every PromQL rule (LogQL rules have no Prometheus form)."""
    groups = []
    for group, interval in GROUP_INTERVALS.items():
        members = [r for r in rules if r.group == group and r.datasource == "prometheus"]
        if members:
            groups.append(
                {
                    "name": group,
                    "interval": f"{interval}s",
                    "rules": [prometheus_rule(r, team, runbook_base_url) for r in members],
                }
            )
    return {"groups": groups}
