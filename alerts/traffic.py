"""Traffic rules: an app gone quiet, a stack component down, an app user over the limit."""

from __future__ import annotations

from alerts.base import (
    MISSION_CONTROL,
    NO_TRAFFIC_STATES,
    PER_SERIES_STATES,
    SERVICE,
    STACK_DASHBOARD,
    STACK_STATES,
    TRAFFIC_GROUP,
    AlertRule,
    PanelLink,
    Threshold,
    label,
    shown,
)
from components.settings import AlertThresholds
from vocabulary import measures, names


def calls_in_window(minutes: int) -> str:
    """Calls per app in the window; 0 for apps seen the day before; nothing while the local
    collector is down (that is the stack-component rule's alert)."""
    recent = measures.app_calls(f"[{minutes}m]", [names.SERVICE])
    seen = measures.app_calls(f"[{minutes + 1440}m]", [names.SERVICE])
    collector_down = f'max({names.UP}{{job="otel-collector"}}) == 0'
    return f"({recent} or 0 * {seen}) unless on () ({collector_down})"


def pipeline_up() -> str:
    jobs = "|".join(names.PIPELINE_JOBS)
    return f'min by (job) ({names.UP}{{job=~"{jobs}"}})'


def requests_per_user() -> str:
    """LLM calls per app user in the last hour, from the apps' JSONL call logs (one line per
    call, `user` field). No Prometheus metric carries the app user (docs/telemetry.md)."""
    calls = f'{names.JSONL_STREAM} | json | __error__="" | user != ""'
    return f"sum by (user) (count_over_time({calls} [1h]))"


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
