"""Reliability rules: the apps' LLM error rate and latency, from the recorded series."""

from __future__ import annotations

from alerts.base import (
    API_DASHBOARD,
    OPERATION,
    PER_SERIES_STATES,
    RELIABILITY_GROUP,
    SERVICE,
    TRACES_DASHBOARD,
    AlertRule,
    PanelLink,
    Threshold,
    shown,
)
from components.settings import AlertThresholds
from vocabulary import measures, names


def error_rate_percent() -> str:
    """Failed calls per service; services without failures count as 0 %, not as absent."""
    return measures.error_rate_percent("[30m]", [names.SERVICE])


def p95_latency_seconds(*by: str) -> str:
    return measures.latency_quantile(0.95, "[15m]", by)


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
