"""The "Telemetry pipeline" rule group: the collector says when it is about to lose data, or does.

Read from the collector's own metrics (docs/telemetry.md, "The stack's own health"), so these rules
have data on the local target only; on Grafana Cloud no collector is scraped and they stay OK.
Limits come from configs/otel-collector/config.yaml, so a resized queue or memory limit moves the
thresholds with it. Runbooks: docs/runbooks.md, one section per rule title.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

from alerts.base import (
    PIPELINE_GROUP,
    STACK_DASHBOARD,
    VALUE,
    AlertRule,
    PanelLink,
    States,
    Threshold,
    label,
    shown,
)

COLLECTOR_CONFIG = Path(__file__).resolve().parent.parent / "configs/otel-collector/config.yaml"
SIGNALS = ("metric_points", "spans", "log_records")
# Warn while half the queue is still free: at a team's pace that is hours before it drops.
QUEUE_FILL_WARNING = 0.5
# Warn at 90 % of memory_limiter's soft limit, where it starts refusing.
HEAP_WARNING_SHARE = 0.9
STREAMS_WARNING_SHARE = 0.8

PIPELINE_STATES = States(
    "OK",
    "no collector series means no local collector to watch (Grafana Cloud) or a collector that "
    "is down, which the stack-component rule reports",
    "Error",
    "a failed query is a DatasourceError alert: the stack's own health is unknown",
)
EXPORTER = label("exporter")
PERCENT = f"{{{{ humanizePercentage {VALUE} }}}}"
INSTANCE = label("instance")


@cache
def collector_config() -> dict[str, Any]:
    return yaml.safe_load(COLLECTOR_CONFIG.read_text(encoding="utf-8"))


def memory_limiter_soft_limit_bytes() -> int:
    """Where memory_limiter starts refusing: its hard limit minus the spike allowance."""
    limiter = collector_config()["processors"]["memory_limiter"]
    return (limiter["limit_mib"] - limiter["spike_limit_mib"]) * 1024 * 1024


def queue_fill() -> str:
    by = "sum by (instance, exporter)"
    return f"{by} (otelcol_exporter_queue_size) / {by} (otelcol_exporter_queue_capacity)"


def summed_across(
    function: str, names: dict[str, str], window: str, by: str, born_counting: bool = False
) -> str:
    """`sum by (by) (function(name[window]))` over several counters at once.

    Each counter is tagged with a `counter` label first: function() drops the metric name, so
    without it two counters with the same labels (say refused spans and refused log records of
    one receiver) would collide ("vector cannot contain metrics with the same labelset").
    `born_counting` is for counters the collector exposes only from their first increment, already
    at its count (and without `_created`): a series absent `window` ago counts whole, since
    increase() needs two samples and would miss that first burst.
    """

    def counted(name: str) -> str:
        counted = f"{function}({name}[{window}])"
        if born_counting:
            counted = f"({name} unless {name} offset {window}) or {counted}"
        return counted

    tagged = " or ".join(
        f'label_replace({counted(name)}, "counter", "{tag}", "", "")' for tag, name in names.items()
    )
    return f"sum by ({by}) ({tagged})"


def signal_counters(template: str) -> dict[str, str]:
    """{tag: name} of one counter per signal, e.g. `otelcol_receiver_refused_{}_total`."""
    return {signal: template.format(signal) for signal in SIGNALS}


# Items an exporter gave up on (retry window over, or refused by the backend for good) and items
# a full queue dropped.
EXPORTER_DROP_COUNTERS = {
    f"{kind}_{tag}": name
    for kind in ("send", "enqueue")
    for tag, name in signal_counters(f"otelcol_exporter_{kind}_failed_{{}}_total").items()
}
# Items the receivers answered with a retryable error (memory_limiter is what refuses).
RECEIVER_REFUSAL_COUNTERS = signal_counters("otelcol_receiver_refused_{}_total")


def exporter_drops(window: str) -> str:
    return summed_across(
        "increase", EXPORTER_DROP_COUNTERS, window, "instance, exporter", born_counting=True
    )


def receiver_refusals(window: str) -> str:
    return summed_across("increase", RECEIVER_REFUSAL_COUNTERS, window, "instance, receiver")


def heap_share_of_soft_limit() -> str:
    limit = memory_limiter_soft_limit_bytes()
    return f"max by (instance) (otelcol_process_runtime_heap_alloc_bytes) / {limit}"


def delta_conversion_errors(window: str) -> str:
    errors = f'otelcol_deltatocumulative_datapoints_total{{error!=""}}[{window}]'
    return f"sum by (instance, error) (increase({errors}))"


def delta_streams_share() -> str:
    by = "sum by (instance)"
    tracked = "otelcol_deltatocumulative_streams_tracked"
    return f"{by} ({tracked}) / {by} (otelcol_deltatocumulative_streams_limit)"


def pipeline_rules() -> list[AlertRule]:
    soft_mib = memory_limiter_soft_limit_bytes() // (1024 * 1024)
    return [
        AlertRule(
            uid="llm-o11y-collector-queue-filling",
            title="Collector export queue filling",
            group=PIPELINE_GROUP,
            severity="warning",
            datasource="prometheus",
            query=queue_fill(),
            window_seconds=600,
            threshold=Threshold("gt", (QUEUE_FILL_WARNING,)),
            pending="5m",
            states=PIPELINE_STATES,
            summary="A collector exporter's queue on disk is filling: its backend is down or slow.",
            description=f"{EXPORTER} on {INSTANCE}: its queue is {PERCENT} full. Nothing is lost "
            "yet; when it is full, new data is dropped.",
            panel=PanelLink(STACK_DASHBOARD, "Exporter queue fill"),
        ),
        AlertRule(
            uid="llm-o11y-collector-dropping",
            title="Collector dropping telemetry",
            group=PIPELINE_GROUP,
            severity="critical",
            datasource="prometheus",
            query=exporter_drops("10m"),
            window_seconds=600,
            threshold=Threshold("gt", (0,)),
            pending="0s",
            states=PIPELINE_STATES,
            summary="The collector dropped telemetry it had accepted.",
            description=f"{EXPORTER} on {INSTANCE} dropped {shown('%.0f')} items in the last 10 "
            "minutes: its backend refused them for good, retries ran out, or its queue was full.",
            panel=PanelLink(STACK_DASHBOARD, "Exporter drops per second"),
        ),
        AlertRule(
            uid="llm-o11y-collector-refusing",
            title="Collector refusing telemetry",
            group=PIPELINE_GROUP,
            severity="warning",
            datasource="prometheus",
            query=receiver_refusals("10m"),
            window_seconds=600,
            threshold=Threshold("gt", (0,)),
            pending="0s",
            states=PIPELINE_STATES,
            summary="The collector refused telemetry: senders got a retryable error.",
            description=f"{label('receiver')} on {INSTANCE} refused {shown('%.0f')} items in the "
            "last 10 minutes. Senders that retry lose nothing; others drop what was refused.",
            panel=PanelLink(STACK_DASHBOARD, "Dropped per second"),
        ),
        AlertRule(
            uid="llm-o11y-collector-memory",
            title="Collector memory near its limit",
            group=PIPELINE_GROUP,
            severity="warning",
            datasource="prometheus",
            query=heap_share_of_soft_limit(),
            window_seconds=300,
            threshold=Threshold("gt", (HEAP_WARNING_SHARE,)),
            pending="5m",
            states=PIPELINE_STATES,
            summary="The collector's heap is close to where memory_limiter refuses data.",
            description=f"{INSTANCE}: the heap is at {PERCENT} of memory_limiter's soft limit "
            f"({soft_mib} MiB); above it every receiver refuses data.",
            panel=PanelLink(STACK_DASHBOARD, "Collector heap against memory_limiter"),
        ),
        AlertRule(
            uid="llm-o11y-delta-conversion-errors",
            title="Collector dropping delta points",
            group=PIPELINE_GROUP,
            severity="warning",
            datasource="prometheus",
            query=delta_conversion_errors("15m"),
            window_seconds=900,
            threshold=Threshold("gt", (0,)),
            pending="0s",
            states=PIPELINE_STATES,
            summary="The collector dropped delta points it could not add to a running total.",
            description=f"{INSTANCE} dropped {shown('%.0f')} delta points in the last 15 minutes "
            f"with error {label('error')}: those counts are missing from the totals.",
            panel=PanelLink(STACK_DASHBOARD, "Delta points dropped per second"),
        ),
        AlertRule(
            uid="llm-o11y-delta-streams-near-limit",
            title="Collector delta streams near the limit",
            group=PIPELINE_GROUP,
            severity="warning",
            datasource="prometheus",
            query=delta_streams_share(),
            window_seconds=300,
            threshold=Threshold("gt", (STREAMS_WARNING_SHARE,)),
            pending="15m",
            states=PIPELINE_STATES,
            summary="The collector tracks nearly as many delta streams as it is allowed to.",
            description=f"{INSTANCE} tracks {PERCENT} of delta_to_cumulative's max_streams; "
            "points of new streams beyond it are dropped.",
            panel=PanelLink(STACK_DASHBOARD, "Delta streams tracked"),
        ),
    ]
