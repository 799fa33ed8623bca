"""Every alert rule in one place: its query, threshold, states, labels, annotations and links.

Grafana runs these rules (components/alerting.py turns each into query -> reduce -> threshold);
`prometheus_rule_groups()` writes the same expressions, labels and annotations as a Prometheus
rule file only so `promtool test rules` can test them (tests/alert_rules/). Metric names are the
ones docs/telemetry.md lists. Spend is Claude Code's cost counter plus the apps' `gen_ai.usage.cost`
histogram sum: the Loki copies of the same costs (Claude Code `api_request` events, JSONL
`cost_usd`) are left out so nothing is counted twice.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from components.settings import AlertThresholds, Severity

Datasource = Literal["prometheus", "loki"]
ThresholdKind = Literal["gt", "lt", "within_range"]

CLAUDE_CODE_COST = "claude_code_cost_usage_USD_total"
APP_COST = "gen_ai_usage_cost_USD_sum"
APP_PRICED_CALLS = "gen_ai_usage_cost_USD_count"
APP_CALLS = "gen_ai_client_operation_duration_seconds_count"
APP_CALL_BUCKETS = "gen_ai_client_operation_duration_seconds_bucket"
# The local stack's own scrape jobs whose loss silences telemetry (configs/prometheus).
PIPELINE_JOBS = ("otel-collector", "loki", "tempo")
# Stands for the evaluated value in descriptions: Grafana's `$values.B.Value` (the reduce
# step), Prometheus's `$value` in the test mirror.
VALUE = "$VALUE"

COST_GROUP = "LLM cost"
RELIABILITY_GROUP = "LLM reliability"
TRAFFIC_GROUP = "LLM traffic"
PIPELINE_GROUP = "Telemetry pipeline"  # components/pipeline_alert_rules.py
# Evaluation interval of each rule group, in seconds; every rule's `for` is a multiple of it.
GROUP_INTERVALS: Mapping[str, int] = {
    COST_GROUP: 300,
    RELIABILITY_GROUP: 60,
    TRAFFIC_GROUP: 60,
    PIPELINE_GROUP: 60,
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


# --- queries -----------------------------------------------------------------------------------


def spend(window: str, offset: str | None = None) -> str:
    """USD spent in `window` (ending `offset` ago), all sources: per-series increase(), then sum.

    Each source falls back to 0 so one silent source does not hide the other's spend.
    """
    shift = f" offset {offset}" if offset else ""
    claude = f"sum(increase({CLAUDE_CODE_COST}[{window}]{shift}))"
    apps = f"sum(increase({APP_COST}[{window}]{shift}))"
    return f"(({claude} or vector(0)) + ({apps} or vector(0)))"


def spend_forecast() -> str:
    """This month's spend at the last 7 days' daily average."""
    return f"{spend('7d')} / 7 * days_in_month()"


def spend_anomaly_ratio(floor_usd: float) -> str:
    """Last hour's spend over the average of the same hour on each of the 7 days before."""
    same_hours = " + ".join(spend("1h", f"{day}d") for day in range(1, 8))
    return f"{spend('1h')} / clamp_min(({same_hours}) / 7, {floor_usd:g})"


def cost_per_operation() -> str:
    by = "sum by (service_name, gen_ai_operation_name)"
    return f"{by} (increase({APP_COST}[1h])) / {by} (increase({APP_PRICED_CALLS}[1h]))"


def error_rate_percent() -> str:
    """Failed calls per service; services without failures count as 0 %, not as absent."""
    failed = f'sum by (service_name) (increase({APP_CALLS}{{error_type!=""}}[30m]))'
    total = f"sum by (service_name) (increase({APP_CALLS}[30m]))"
    return f"100 * ({failed} or 0 * {total}) / {total}"


def p95_latency_seconds(*by: str) -> str:
    labels = ", ".join((*by, "le"))
    return f"histogram_quantile(0.95, sum by ({labels}) (rate({APP_CALL_BUCKETS}[15m])))"


def calls_in_window(minutes: int) -> str:
    """Calls per app in the window; 0 for apps seen the day before; nothing while the local
    collector is down (that is the stack-component rule's alert)."""
    recent = f"sum by (service_name) (increase({APP_CALLS}[{minutes}m]))"
    seen = f"sum by (service_name) (increase({APP_CALLS}[{minutes + 1440}m]))"
    collector_down = 'max(up{job="otel-collector"}) == 0'
    return f"({recent} or 0 * {seen}) unless on () ({collector_down})"


def pipeline_up() -> str:
    jobs = "|".join(PIPELINE_JOBS)
    return f'min by (job) (up{{job=~"{jobs}"}})'


def session_cost() -> str:
    # Per series first: a resumed session is a new process (a counter reset) on the same series.
    return f"sum by (session_id, user_email) (increase({CLAUDE_CODE_COST}[24h]))"


def requests_per_user() -> str:
    """LLM calls per app user in the last hour, from the apps' JSONL call logs (one line per
    call, `user` field). No Prometheus metric carries the app user (docs/telemetry.md)."""
    calls = '{service_name="llm-cost-jsonl"} | json | __error__="" | user != ""'
    return f"sum by (user) (count_over_time({calls} [1h]))"


# --- the rules ---------------------------------------------------------------------------------


def shown(number_format: str) -> str:
    """The evaluated value in a description, e.g. `shown("%.2f")`."""
    return f'{{{{ printf "{number_format}" {VALUE} }}}}'


def label(name: str) -> str:
    return f"{{{{ $labels.{name} }}}}"


DOLLARS = f"${shown('%.2f')}"
SERVICE = label("service_name")
OPERATION = f"{label('service_name')} {label('gen_ai_operation_name')}"

COST_DASHBOARD = "llm-cost-tokens"
SESSIONS_DASHBOARD = "llm-agent-sessions"
API_DASHBOARD = "llm-api"
TRACES_DASHBOARD = "llm-traces-latency"
MISSION_CONTROL = "llm-mission-control"
STACK_DASHBOARD = "llm-stack-health"


def _usd(value: float) -> str:
    return f"${value:,.2f}" if value >= 0.1 else f"${value:g}"


def cost_rules(t: AlertThresholds) -> list[AlertRule]:
    return [
        AlertRule(
            uid="llm-o11y-daily-spend",
            title="LLM spend over daily budget",
            group=COST_GROUP,
            severity="warning",
            datasource="prometheus",
            query=spend("1d"),
            window_seconds=86_400,
            threshold=Threshold("gt", (t.daily_budget_usd,)),
            pending="5m",
            states=SPEND_STATES,
            summary="LLM spend in the last 24 hours is over the daily budget.",
            description=f"Spent {DOLLARS} in the last 24 hours (Claude Code and apps); the "
            f"daily budget is {_usd(t.daily_budget_usd)}.",
            panel=PanelLink(COST_DASHBOARD, "Spend today"),
        ),
        AlertRule(
            uid="llm-o11y-monthly-forecast",
            title="LLM monthly spend forecast over budget",
            group=COST_GROUP,
            severity="warning",
            datasource="prometheus",
            query=spend_forecast(),
            window_seconds=7 * 86_400,
            threshold=Threshold("gt", (t.monthly_budget_usd,)),
            pending="15m",
            states=SPEND_STATES,
            summary="At the last 7 days' pace, this month's LLM spend will exceed the budget.",
            description=f"The last 7 days' daily average projects {DOLLARS} for this month; "
            f"the monthly budget is {_usd(t.monthly_budget_usd)}.",
            panel=PanelLink(COST_DASHBOARD, "Projected spend this month"),
        ),
        AlertRule(
            uid="llm-o11y-burn-rate",
            title="LLM spend rate over hourly limit",
            group=COST_GROUP,
            severity="critical",
            datasource="prometheus",
            query=spend("1h"),
            window_seconds=3600,
            threshold=Threshold("gt", (t.burn_rate_usd_per_hour,)),
            pending="5m",
            states=SPEND_STATES,
            summary="LLM spend in the last hour is over the hourly limit.",
            description=f"Spent {DOLLARS} in the last hour; the limit is "
            f"{_usd(t.burn_rate_usd_per_hour)} per hour.",
            panel=PanelLink(COST_DASHBOARD, "Spend per hour"),
        ),
        AlertRule(
            uid="llm-o11y-spend-anomaly",
            title="LLM spend anomaly",
            group=COST_GROUP,
            severity="warning",
            datasource="prometheus",
            query=spend_anomaly_ratio(t.anomaly_baseline_floor_usd),
            window_seconds=8 * 86_400,
            threshold=Threshold("gt", (t.anomaly_factor,)),
            pending="15m",
            states=SPEND_STATES,
            summary="LLM spend in the last hour is far above the same hour on previous days.",
            description=f"The last hour cost {shown('%.1f')} times the average of "
            f"the same hour over the previous 7 days (alert above {t.anomaly_factor:g} times; "
            f"averages under {_usd(t.anomaly_baseline_floor_usd)} count as "
            f"{_usd(t.anomaly_baseline_floor_usd)}).",
            panel=PanelLink(COST_DASHBOARD, "Spend per hour"),
        ),
        AlertRule(
            uid="llm-o11y-cost-per-operation",
            title="LLM cost per operation over limit",
            group=COST_GROUP,
            severity="warning",
            datasource="prometheus",
            query=cost_per_operation(),
            window_seconds=3600,
            threshold=Threshold("gt", (t.cost_per_operation_usd,)),
            pending="15m",
            states=PER_SERIES_STATES,
            summary="An LLM operation costs more per call than its limit.",
            description=f"{OPERATION} calls cost ${shown('%.4f')} each over the last hour; "
            f"the limit is {_usd(t.cost_per_operation_usd)}.",
            panel=PanelLink(COST_DASHBOARD, "Cost per call by operation"),
            nan_is_zero=True,
        ),
        AlertRule(
            uid="llm-o11y-cost-per-operation-slo",
            title="LLM cost per operation over SLO",
            group=COST_GROUP,
            severity="info",
            datasource="prometheus",
            query=cost_per_operation(),
            window_seconds=3600,
            threshold=Threshold(
                "within_range", (t.slo_cost_per_operation_usd, t.cost_per_operation_usd)
            ),
            pending="15m",
            states=PER_SERIES_STATES,
            summary="An LLM operation costs more per call than its SLO.",
            description=f"{OPERATION} calls cost ${shown('%.4f')} each over the last hour; "
            f"the SLO is {_usd(t.slo_cost_per_operation_usd)} (above "
            f"{_usd(t.cost_per_operation_usd)} the limit rule fires instead).",
            panel=PanelLink(COST_DASHBOARD, "Cost per call by operation"),
            nan_is_zero=True,
        ),
        AlertRule(
            uid="llm-o11y-session-cost",
            title="Claude Code session over cost limit",
            group=COST_GROUP,
            severity="warning",
            datasource="prometheus",
            query=session_cost(),
            window_seconds=86_400,
            threshold=Threshold("gt", (t.session_cost_usd,)),
            pending="0s",
            states=PER_SERIES_STATES,
            summary="A Claude Code session has cost more than the per-session limit.",
            description=f"Session {label('session_id')} of {label('user_email')} cost {DOLLARS} "
            f"in the last 24 hours; the limit is {_usd(t.session_cost_usd)}.",
            panel=PanelLink(SESSIONS_DASHBOARD, "Most expensive sessions"),
        ),
    ]


def reliability_rules(t: AlertThresholds) -> list[AlertRule]:
    critical, warning = t.error_rate_critical_percent, t.error_rate_warning_percent
    error_description = f"{SERVICE}: {shown('%.1f')} % of LLM calls failed in the last 30 minutes"
    return [
        AlertRule(
            uid="llm-o11y-error-rate-critical",
            title="LLM error rate critical",
            group=RELIABILITY_GROUP,
            severity="critical",
            datasource="prometheus",
            query=error_rate_percent(),
            window_seconds=1800,
            threshold=Threshold("gt", (critical,)),
            pending="5m",
            states=PER_SERIES_STATES,
            summary="Too many LLM calls of an app are failing.",
            description=f"{error_description}; critical above {critical:g} %.",
            panel=PanelLink(API_DASHBOARD, "Error rate by service"),
            nan_is_zero=True,
        ),
        AlertRule(
            uid="llm-o11y-error-rate-warning",
            title="LLM error rate elevated",
            group=RELIABILITY_GROUP,
            severity="warning",
            datasource="prometheus",
            query=error_rate_percent(),
            window_seconds=1800,
            threshold=Threshold("within_range", (warning, critical)),
            pending="10m",
            states=PER_SERIES_STATES,
            summary="More LLM calls of an app are failing than usual.",
            description=f"{error_description}; warning above {warning:g} % "
            f"(critical above {critical:g} %).",
            panel=PanelLink(API_DASHBOARD, "Error rate by service"),
            nan_is_zero=True,
        ),
        AlertRule(
            uid="llm-o11y-p95-latency",
            title="LLM P95 latency over limit",
            group=RELIABILITY_GROUP,
            severity="warning",
            datasource="prometheus",
            query=p95_latency_seconds("service_name"),
            window_seconds=900,
            threshold=Threshold("gt", (t.p95_latency_seconds,)),
            pending="10m",
            states=PER_SERIES_STATES,
            summary="An app's LLM calls are slow at the 95th percentile.",
            description=f"{SERVICE}: P95 LLM call duration {shown('%.1f')} s over the last "
            f"15 minutes; the limit is {t.p95_latency_seconds:g} s.",
            panel=PanelLink(API_DASHBOARD, "LLM call latency P95"),
            nan_is_zero=True,
        ),
        AlertRule(
            uid="llm-o11y-operation-p95",
            title="LLM operation P95 latency over limit",
            group=RELIABILITY_GROUP,
            severity="warning",
            datasource="prometheus",
            query=f"1000 * {p95_latency_seconds('service_name', 'gen_ai_operation_name')}",
            window_seconds=900,
            threshold=Threshold("gt", (t.operation_p95_ms,)),
            pending="10m",
            states=PER_SERIES_STATES,
            summary="An LLM operation is slow at the 95th percentile.",
            description=f"{OPERATION}: P95 {shown('%.0f')} ms over the last "
            f"15 minutes; the limit is {t.operation_p95_ms:g} ms.",
            panel=PanelLink(TRACES_DASHBOARD, "P95 latency by operation"),
            nan_is_zero=True,
        ),
        AlertRule(
            uid="llm-o11y-operation-p95-slo",
            title="LLM operation P95 latency over SLO",
            group=RELIABILITY_GROUP,
            severity="info",
            datasource="prometheus",
            query=f"1000 * {p95_latency_seconds('service_name', 'gen_ai_operation_name')}",
            window_seconds=900,
            threshold=Threshold("within_range", (t.slo_operation_p95_ms, t.operation_p95_ms)),
            pending="10m",
            states=PER_SERIES_STATES,
            summary="An LLM operation is slower than its latency SLO.",
            description=f"{OPERATION}: P95 {shown('%.0f')} ms over the last "
            f"15 minutes; the SLO is {t.slo_operation_p95_ms:g} ms (above "
            f"{t.operation_p95_ms:g} ms the limit rule fires instead).",
            panel=PanelLink(TRACES_DASHBOARD, "P95 latency by operation"),
            nan_is_zero=True,
        ),
    ]


def traffic_rules(t: AlertThresholds) -> list[AlertRule]:
    minutes = t.no_traffic_minutes
    return [
        AlertRule(
            uid="llm-o11y-no-traffic",
            title="No LLM traffic",
            group=TRAFFIC_GROUP,
            severity="warning",
            datasource="prometheus",
            query=calls_in_window(minutes),
            window_seconds=(minutes + 1440) * 60,
            threshold=Threshold("lt", (1,)),
            pending="0s",
            states=NO_TRAFFIC_STATES,
            summary="An app that made LLM calls in the last day has made none recently.",
            description=f"{SERVICE} made no LLM calls in the last {minutes} minutes, after "
            "making calls in the day before. The telemetry pipeline is up (otherwise the "
            "stack-component rule fires instead).",
            panel=PanelLink(MISSION_CONTROL, "LLM calls per minute"),
        ),
        AlertRule(
            uid="llm-o11y-stack-component-down",
            title="Observability stack component down",
            group=TRAFFIC_GROUP,
            severity="critical",
            datasource="prometheus",
            query=pipeline_up(),
            window_seconds=300,
            threshold=Threshold("lt", (1,)),
            pending="2m",
            states=STACK_STATES,
            summary="A component of the telemetry pipeline is down; LLM telemetry is being lost.",
            description=f"Prometheus cannot scrape {label('job')}: telemetry that passes "
            "through it is not arriving, so other rules may see no data.",
            panel=PanelLink(STACK_DASHBOARD, "Components up"),
        ),
        AlertRule(
            uid="llm-o11y-user-requests",
            title="LLM app user over hourly request limit",
            group=TRAFFIC_GROUP,
            severity="warning",
            datasource="loki",
            query=requests_per_user(),
            window_seconds=3600,
            threshold=Threshold("gt", (t.user_requests_per_hour,)),
            pending="5m",
            states=PER_SERIES_STATES,
            summary="One app user made more LLM requests in an hour than the limit.",
            description=f"User {label('user')} made {shown('%.0f')} LLM "
            f"requests in the last hour; the limit is {t.user_requests_per_hour} per hour.",
            panel=PanelLink(MISSION_CONTROL, "Top users by requests"),
        ),
    ]


def alert_rules(thresholds: AlertThresholds) -> list[AlertRule]:
    """Every rule, with these thresholds."""
    # Imported here: that module builds its rules from this one's types.
    from components.pipeline_alert_rules import pipeline_rules

    return [
        *cost_rules(thresholds),
        *reliability_rules(thresholds),
        *traffic_rules(thresholds),
        *pipeline_rules(),
    ]


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
