"""Stack Health (seed 003 "Infrastructure", for what we run): the observability stack itself.

Prometheus scrapes the local stack's services every 15 s: whether each is up, what the
collector accepts, exports and drops, what Prometheus, Loki and Tempo ingest, and each service's
CPU and memory from its own process metrics. Container metrics (cAdvisor or the container
runtime's cgroups) are not collected: each container runs one process, so its process metrics
are the container's use, minus the runtime's overhead. On Grafana Cloud the hosted Prometheus,
Loki and Tempo expose none of these metrics to the stack, so this dashboard is for the local
target; there, the stack's own health is Grafana Cloud's to watch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import yaml
from grafana_foundation_sdk.builders import dashboard

from alerts.pipeline import EXPORTER_DROP_COUNTERS, summed_across
from dashboards.panels import (
    PROMETHEUS,
    Section,
    build_dashboard,
    promql,
    stat_panel,
    timeseries_panel,
)
from dashboards.spec import STACK_FOLDER, DashboardSpec, without_prices

UID: Final = "llm-stack-health"
RANGE: Final = "[$__range]"
RATE: Final = "[$__rate_interval]"

# Signal -> (what the collector counts it in, its receiver and exporter metric infix).
SIGNALS: Final = (
    ("metric points", "metric_points"),
    ("spans", "spans"),
    ("log records", "log_records"),
)


# Queries (the number tests import these) ------------------------------------------------------


def availability(window: str) -> str:
    """Share of scrapes that succeeded, per job."""
    return f"avg by (job) (avg_over_time(up{window}))"


def collector_rate(kind: str, infix: str, by: str = "") -> str:
    """Per-second rate of `otelcol_<kind>_<infix>_total`, e.g. kind `receiver_accepted`."""
    grouping = f" by ({by})" if by else ""
    return f"sum{grouping} (rate(otelcol_{kind}_{infix}_total{RATE}))"


def dropped_share(infix: str, window: str) -> str:
    """Items the collector refused or failed to export, over the items it accepted."""
    refused = f"sum(increase(otelcol_receiver_refused_{infix}_total{window}))"
    failed = f"sum(increase(otelcol_exporter_send_failed_{infix}_total{window}))"
    accepted = f"sum(increase(otelcol_receiver_accepted_{infix}_total{window}))"
    return f"({refused} + {failed}) / {accepted}"


COMPONENTS_UP: Final = "min by (job) (up)"
QUEUE_SIZE: Final = "sum by (exporter) (otelcol_exporter_queue_size)"
PROMETHEUS_SAMPLES: Final = f"sum(rate(prometheus_tsdb_head_samples_appended_total{RATE}))"
PROMETHEUS_SERIES: Final = "sum(prometheus_tsdb_head_series)"
LOKI_LINES: Final = f"sum(rate(loki_distributor_lines_received_total{RATE}))"
TEMPO_SPANS: Final = f"sum(rate(tempo_distributor_spans_received_total{RATE}))"
SERVICE_CPU: Final = f"sum by (job) (rate(process_cpu_seconds_total{RATE}))"
COLLECTOR_CPU: Final = f"sum by (job) (rate(otelcol_process_cpu_seconds_total{RATE}))"
SERVICE_MEMORY: Final = "sum by (job) (process_resident_memory_bytes)"
COLLECTOR_MEMORY: Final = "sum by (job) (otelcol_process_memory_rss_bytes)"


# Panels ---------------------------------------------------------------------------------------

SCRAPE_NOTE: Final = "Scraped every 15 s; a service that is down has no samples but up = 0."
COLLECTOR_NOTE: Final = (
    "The collector's own metrics (otelcol_*): its receivers accept or refuse what apps send "
    "(refusals come from memory_limiter), its exporters send to Prometheus, Loki and Tempo or "
    "give up after retries (a backend down or rejecting the data)."
)
CONTAINER_NOTE: Final = (
    "From each service's own process metrics (process_* for Prometheus, Loki, Tempo and "
    "Grafana; otelcol_process_* for the collector). Container CPU and memory (cgroups, "
    "cAdvisor) are not collected by this stack; one process per container makes these the "
    "containers' use, minus the runtime's overhead."
)


def _targets() -> Section:
    return Section(
        None,
        [
            stat_panel(
                "Availability by service",
                f"Share of the picker's range each service's scrape succeeded. {SCRAPE_NOTE}",
                "percentunit",
                promql(availability(RANGE), "{{job}}", instant=True),
                width=12,
                decimals=2,
            ),
            timeseries_panel(
                "Components up",
                "1 while the last scrape of a service succeeded, 0 while it failed. The "
                f"stack-component alert watches this. {SCRAPE_NOTE}",
                "short",
                promql(COMPONENTS_UP, "{{job}}"),
            ),
        ],
    )


def _collector() -> Section:
    accepted = [
        promql(collector_rate("receiver_accepted", infix), label) for label, infix in SIGNALS
    ]
    exported = [
        promql(collector_rate("exporter_sent", infix, "exporter"), "{{exporter}}")
        for _, infix in SIGNALS
    ]
    refused = [
        promql(collector_rate("receiver_refused", infix), f"refused {label}")
        for label, infix in SIGNALS
    ]
    failed = [
        promql(collector_rate("exporter_send_failed", infix, "exporter"), "failed {{exporter}}")
        for _, infix in SIGNALS
    ]
    shares = [promql(dropped_share(infix, RANGE), label, instant=True) for label, infix in SIGNALS]
    return Section(
        "OpenTelemetry Collector",
        [
            timeseries_panel(
                "Accepted per second",
                f"Items the collector's receivers accepted, by signal. {COLLECTOR_NOTE}",
                "cps",
                *accepted,
                width=8,
            ),
            timeseries_panel(
                "Exported per second",
                f"Items each exporter sent to its backend. {COLLECTOR_NOTE}",
                "cps",
                *exported,
                width=8,
            ),
            timeseries_panel(
                "Dropped per second",
                "Items refused by a receiver or given up on by an exporter, by signal and "
                f"exporter; flat at 0 when nothing is lost. {COLLECTOR_NOTE}",
                "cps",
                *refused,
                *failed,
                width=8,
            ),
            stat_panel(
                "Dropped share in range",
                "Refused plus failed-to-export items over accepted items in the picker's "
                f"range, by signal. {COLLECTOR_NOTE}",
                "percentunit",
                *shares,
                width=12,
                decimals=2,
            ),
            timeseries_panel(
                "Exporter queue size",
                "Bytes waiting in each exporter's queue on disk: it grows while a backend is "
                "slow or down, survives a collector restart, and data is dropped once the "
                "queue is full (Exporter queue fill).",
                "bytes",
                promql(QUEUE_SIZE, "{{exporter}}"),
            ),
        ],
    )


def _backends() -> Section:
    return Section(
        "Backends: ingestion",
        [
            timeseries_panel(
                "Prometheus samples appended per second",
                "Samples Prometheus wrote to its head block: OTLP metrics from the collector, "
                "span metrics from Tempo's remote write, and its own scrapes.",
                "cps",
                promql(PROMETHEUS_SAMPLES, "samples/s"),
                width=6,
            ),
            timeseries_panel(
                "Prometheus head series",
                "Series in Prometheus's head block: its cardinality. Claude Code's per-session "
                "series make it grow with sessions, not users.",
                "short",
                promql(PROMETHEUS_SERIES, "series"),
                width=6,
            ),
            timeseries_panel(
                "Loki lines received per second",
                "Log lines Loki's distributor received: Claude Code events and JSONL records.",
                "cps",
                promql(LOKI_LINES, "lines/s"),
                width=6,
            ),
            timeseries_panel(
                "Tempo spans received per second",
                "Spans Tempo's distributor received from the collector.",
                "cps",
                promql(TEMPO_SPANS, "spans/s"),
                width=6,
            ),
        ],
    )


def _resources() -> Section:
    return Section(
        "Resource use",
        [
            timeseries_panel(
                "CPU by service",
                f"CPU cores each service used (user + system), per rate window. {CONTAINER_NOTE}",
                "none",
                promql(SERVICE_CPU, "{{job}}"),
                promql(COLLECTOR_CPU, "{{job}}"),
            ),
            timeseries_panel(
                "Memory by service",
                f"Resident memory (RSS) of each service's process. {CONTAINER_NOTE}",
                "bytes",
                promql(SERVICE_MEMORY, "{{job}}"),
                promql(COLLECTOR_MEMORY, "{{job}}"),
            ),
        ],
    )


# Delivery: what the collector holds, drops and refuses (the "Telemetry pipeline" alert rules,
# alerts/pipeline.py, watch the same signals) -----------------------------------

COLLECTOR_CONFIG: Final = (
    Path(__file__).resolve().parent.parent / "configs/otel-collector/config.yaml"
)
QUEUE_FILL: Final = (
    "sum by (exporter) (otelcol_exporter_queue_size) "
    "/ sum by (exporter) (otelcol_exporter_queue_capacity)"
)
EXPORTER_DROPS: Final = summed_across(
    "rate", EXPORTER_DROP_COUNTERS, "$__rate_interval", "exporter"
)
COLLECTOR_HEAP: Final = "max by (instance) (otelcol_process_runtime_heap_alloc_bytes)"
DELTA_STREAMS: Final = "sum by (instance) (otelcol_deltatocumulative_streams_tracked)"
DELTA_STREAM_LIMIT: Final = "min by (instance) (otelcol_deltatocumulative_streams_limit)"
DELTA_DROPS: Final = (
    f'sum by (error) (rate(otelcol_deltatocumulative_datapoints_total{{error!=""}}{RATE}))'
)


def memory_limiter_limits_bytes() -> tuple[int, int]:
    """memory_limiter's soft limit (where it starts refusing) and hard limit, in bytes."""
    config = yaml.safe_load(COLLECTOR_CONFIG.read_text(encoding="utf-8"))
    limiter = config["processors"]["memory_limiter"]
    mib = 1024 * 1024
    return (limiter["limit_mib"] - limiter["spike_limit_mib"]) * mib, limiter["limit_mib"] * mib


def _delivery() -> Section:
    soft, hard = memory_limiter_limits_bytes()
    return Section(
        "Collector: delivery",
        [
            timeseries_panel(
                "Exporter queue fill",
                "Share of each exporter's queue on disk in use. It fills while a backend is "
                "down and drains when it is back; when full, new data is dropped. The queue "
                "survives collector restarts; the queue-filling alert fires at 50 %.",
                "percentunit",
                promql(QUEUE_FILL, "{{exporter}}"),
                width=8,
            ),
            timeseries_panel(
                "Exporter drops per second",
                "Items an exporter gave up on (the backend refused them for good, or retries ran "
                "past the exporter's window) or dropped because its queue was full; flat at 0 "
                "when nothing is lost. Counters appear with the first drop.",
                "cps",
                promql(EXPORTER_DROPS, "{{exporter}}"),
                width=8,
            ),
            timeseries_panel(
                "Collector heap against memory_limiter",
                "The collector's Go heap beside memory_limiter's limits "
                "(configs/otel-collector/config.yaml): above the soft limit every receiver "
                "refuses data (senders see a retryable error); GOMEMLIMIT is set at the soft "
                "limit and the container's memory limit above the hard one.",
                "bytes",
                promql(COLLECTOR_HEAP, "heap {{instance}}"),
                promql(f"vector({soft})", "refuses above (soft limit)"),
                promql(f"vector({hard})", "hard limit"),
                width=8,
            ),
            timeseries_panel(
                "Delta streams tracked",
                "Delta streams (Claude Code's counters by default) the collector keeps a running "
                "total for, each until 15 minutes after its last point, against max_streams: "
                "points of streams beyond it are dropped. The near-limit alert fires at 80 %.",
                "short",
                promql(DELTA_STREAMS, "tracked {{instance}}"),
                promql(DELTA_STREAM_LIMIT, "limit {{instance}}"),
            ),
            timeseries_panel(
                "Delta points dropped per second",
                "Delta points the collector could not add to a running total, by reason: "
                "`limit` (over max_streams), `delta.ErrOlderStart` and other out-of-order "
                "points (two senders writing one stream). Those counts are missing from totals.",
                "cps",
                promql(DELTA_DROPS, "{{error}}"),
            ),
        ],
    )


def build() -> dashboard.Dashboard:
    return build_dashboard(
        UID,
        "Stack Health",
        "The local observability stack itself: services up, what the collector accepts, "
        "exports and drops, what Prometheus, Loki and Tempo ingest, and each service's CPU and "
        "memory. Grafana Cloud's hosted services expose none of this.",
        [_targets(), _collector(), _delivery(), _backends(), _resources()],
        kinds=(PROMETHEUS,),
        tags=["stack"],
        time_from="now-24h",
        filtered=False,
    )


SPEC: Final = DashboardSpec(UID, STACK_FOLDER, without_prices(build))
