"""What Prometheus ends up storing for a Traffic: the series, their samples and their resets.

Each source is shaped the way its pipeline shapes it:
- OTLP apps and Claude Code export cumulative points every `export_interval` from process start
  (the collector's deltatocumulative gives the same shape for delta senders), plus a final flush at
  exit; a series appears at the first export after its first recording; Prometheus stores no zero
  at the start time unless `start_zero_samples` (created-timestamp-zero-ingestion) is on; a new
  process with the same labels (a resumed Claude Code session, a restarted app) is a counter reset.
- Tempo's metrics-generator writes every `tempo_interval`, drops a series after 15 minutes without
  spans, and loses all counts when Tempo restarts.
- The stack's own metrics are scraped every `scrape_interval`; a target that is down has up == 0
  and no other samples, and its counters restart from zero.
"""

import bisect
import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from tools.telemetry import catalog, genai_generations
from tools.telemetry.catalog import Instrument, NativeMetric
from tools.telemetry.events import (
    AppProcess,
    AppRequest,
    ClaudeCodeProcess,
    Traffic,
    team_attributes,
)
from tools.telemetry.naming import MetricType, prometheus_label_name
from tools.telemetry.scenario import Scenario

Labels = tuple[tuple[str, str], ...]
Sample = tuple[float, float]

CLAUDE_CODE_VERSION = "2.0.14"
TEMPO_STALE_AFTER = 15 * 60.0
SPAN_RECEIPT_DELAY = 5.0  # SDK batch span processor + collector batch
LOKI_TENANT = "fake"  # Loki's tenant when auth_enabled is false
TEMPO_TENANT = "single-tenant"  # Tempo's tenant when multitenancy is off
SCRAPE_TARGETS = {
    "prometheus": "localhost:9090",
    "otel-collector": "otel-collector:8888",
    "loki": "loki:3100",
    "tempo": "tempo:3200",
    "grafana": "grafana:3000",
}


# The collector's configs/otel-collector/config.yaml: exporter queue size (bytes, on disk) and
# delta_to_cumulative's max_stale and max_streams.
QUEUE_CAPACITY_BYTES = 536_870_912
QUEUED_SPAN_BYTES = 400
DELTA_MAX_STALE_SECONDS = 15 * 60
DELTA_MAX_STREAMS = 100_000


@dataclass(slots=True)
class StoredSeries:
    name: str
    labels: Labels
    samples: list[Sample]


@dataclass
class Family:
    """One OpenMetrics metric family: its `# TYPE` name and its series."""

    name: str
    metric_type: MetricType
    help: str
    series: Iterable[StoredSeries]


@dataclass
class PointTally:
    """What the collector and backends received, for the stack's own counters."""

    metric_points: list[float] = field(default_factory=list)
    spans: list[float] = field(default_factory=list)
    log_records: list[float] = field(default_factory=list)
    series_lifetimes: list[tuple[float, float]] = field(default_factory=list)
    # Samples Prometheus appended, by scrape tick index k: those in (start + (k-1)i, start + ki].
    appended_per_tick: Counter[int] = field(default_factory=Counter)


def _family_name(metric: Instrument | NativeMetric) -> str:
    name = metric.prometheus_name
    return name.removesuffix("_total") if metric.metric_type is MetricType.COUNTER else name


def export_ticks(start: float, end: float, interval: float) -> list[float]:
    """When an SDK exports: every interval after start, and once more at shutdown."""
    count = math.ceil((end - start) / interval)
    ticks = [round(start + k * interval, 3) for k in range(1, count)]
    return [*ticks, round(end, 3)]


def _stream_start(first_recording: float, process_start: float, ticks: list[float]) -> float:
    """Start time of the first point that carries a series: the export before its first recording
    (what a delta SDK reports and deltatocumulative keeps), or the process start."""
    position = bisect.bisect_left(ticks, first_recording)
    return ticks[position - 1] if position > 0 else process_start


def _cumulative(
    increments: list[Sample], ticks: list[float], process_start: float | None
) -> list[Sample]:
    """Cumulative values at each export tick from the first one that carries the series; with a
    process start given, a zero sample at the stream's start time precedes them."""
    total, index, first = 0.0, 0, increments[0][0]
    samples: list[Sample] = []
    if process_start is not None:
        samples.append((round(_stream_start(first, process_start, ticks), 3), 0.0))
    for tick in ticks[bisect.bisect_left(ticks, first) :]:
        while index < len(increments) and increments[index][0] <= tick:
            total += increments[index][1]
            index += 1
        samples.append((tick, total))
    return samples


class _HistogramSeries:
    """Cumulative bucket counts, sum and count of one label set over export ticks."""

    def __init__(self, buckets: tuple[float, ...]) -> None:
        self.bounds = buckets
        # (time, cumulative count per `le`, sum (None: no sample), count)
        self.samples: list[tuple[float, list[int], float | None, int]] = []

    def fill(
        self,
        observations: list[Sample],
        ticks: list[float],
        process_start: float | None,
        zero_sum: bool = True,
    ) -> None:
        """Samples from the first tick on; with `process_start`, a zero sample first (with
        `zero_sum` False, for buckets and count only)."""
        counts = [0] * (len(self.bounds) + 1)
        total, count, index = 0.0, 0, 0
        if process_start is not None:
            zero_at = _stream_start(observations[0][0], process_start, ticks)
            self.samples.append((round(zero_at, 3), list(counts), 0.0 if zero_sum else None, 0))
        for tick in ticks[bisect.bisect_left(ticks, observations[0][0]) :]:
            while index < len(observations) and observations[index][0] <= tick:
                value = observations[index][1]
                counts[bisect.bisect_left(self.bounds, value)] += 1
                total += value
                count += 1
                index += 1
            self.samples.append((tick, list(itertools.accumulate(counts)), total, count))

    def as_series(self, base: str, labels: Labels) -> list[StoredSeries]:
        les = [_format_le(bound) for bound in self.bounds] + ["+Inf"]
        bucket_series = [
            StoredSeries(
                f"{base}_bucket",
                (*labels, ("le", le)),
                [(t, float(cumulative[position])) for t, cumulative, _, _ in self.samples],
            )
            for position, le in enumerate(les)
        ]
        sums = [(t, total) for t, _, total, _ in self.samples if total is not None]
        counts = [(t, float(count)) for t, _, _, count in self.samples]
        return [
            *bucket_series,
            StoredSeries(f"{base}_sum", labels, sums),
            StoredSeries(f"{base}_count", labels, counts),
        ]


def _format_le(bound: float) -> str:
    # Prometheus's OTLP translation writes bounds with strconv.FormatFloat(b, 'f', -1, 64).
    return repr(float(bound)).removesuffix(".0") if float(bound).is_integer() else repr(bound)


# --- Claude Code -------------------------------------------------------------------------------


def _claude_code_labels(process: ClaudeCodeProcess, attributes: Labels) -> Labels:
    user = process.user
    return (
        ("job", process.service),
        ("service_name", process.service),
        ("service_version", CLAUDE_CODE_VERSION),
        *((prometheus_label_name(key), value) for key, value in attributes),
        ("session_id", process.session_id),
        ("user_account_uuid", user.account_uuid),
        ("user_email", user.email),
        ("organization_id", user.organization_id),
        ("terminal_type", user.terminal_type),
        *team_attributes(user),
    )


def _claude_code_family(
    traffic: Traffic, scenario: Scenario, metric: Instrument, tally: PointTally
) -> Iterator[StoredSeries]:
    per_run: dict[tuple[Labels, ClaudeCodeProcess], list[Sample]] = defaultdict(list)
    for measurement in traffic.claude_code_measurements:
        if measurement.instrument == metric.otel_name:
            labels = _claude_code_labels(measurement.process, measurement.attributes)
            per_run[(labels, measurement.process)].append((measurement.time, measurement.value))
    runs_of: dict[Labels, list[ClaudeCodeProcess]] = defaultdict(list)
    for labels, process in per_run:
        runs_of[labels].append(process)
    for labels in sorted(runs_of):
        samples: list[Sample] = []
        for process in sorted(runs_of[labels], key=lambda run: run.start):
            ticks = export_ticks(process.start, process.end, scenario.export_interval)
            start = process.start if scenario.start_zero_samples else None
            run_samples = _cumulative(per_run[(labels, process)], ticks, start)
            tally.metric_points.extend(t for t, _ in run_samples)
            samples.extend(run_samples)
        tally.series_lifetimes.append((samples[0][0], samples[-1][0]))
        yield StoredSeries(metric.prometheus_name, labels, samples)


# --- GenAI apps --------------------------------------------------------------------------------


def _genai_attributes(request: AppRequest) -> Labels:
    llm = request.llm
    return (
        ("gen_ai_operation_name", llm.operation),
        ("gen_ai_provider_name", llm.provider),
        ("gen_ai_request_model", llm.model),
        ("gen_ai_response_model", llm.model),
    )


def _app_observations(metric: Instrument, request: AppRequest) -> list[tuple[Labels, float]]:
    """The (attributes, value) recordings one request makes on an app instrument."""
    llm = request.llm
    if request.process.conventions in genai_generations.GENERATIONS:
        return [
            (tuple((prometheus_label_name(k), str(v)) for k, v in attributes.items()), value)
            for instrument, attributes, value in genai_generations.recordings(request)
            if instrument is metric
        ]
    if metric.otel_name not in _V1_37_INSTRUMENTS:
        return []
    if metric is catalog.GENAI_TOKEN_USAGE:
        if llm.error_type:
            return []
        base = _genai_attributes(request)
        return [
            ((*base, ("gen_ai_token_type", "input")), float(llm.input_tokens)),
            ((*base, ("gen_ai_token_type", "output")), float(llm.output_tokens)),
        ]
    if metric is catalog.GENAI_OPERATION_DURATION:
        error = (("error_type", llm.error_type),) if llm.error_type else ()
        return [((*_genai_attributes(request), *error), llm.duration)]
    if metric is catalog.GENAI_USAGE_COST:
        if llm.error_type or not request.reports_cost:
            return []
        return [(_genai_attributes(request), llm.cost_usd)]
    if metric is catalog.HTTP_SERVER_DURATION:
        attributes: Labels = (
            ("http_request_method", request.method),
            ("http_route", request.route),
            ("http_response_status_code", str(request.status_code)),
            ("url_scheme", "http"),
        )
        if request.status_code >= 500:
            attributes = (*attributes, ("error_type", str(request.status_code)))
        return [(attributes, request.duration)]
    raise ValueError(f"not an app instrument: {metric.otel_name}")


_V1_37_INSTRUMENTS = {metric.otel_name for metric in catalog.GENAI_APPS.metrics}


def _app_resource(process: AppProcess) -> Labels:
    return (
        ("job", process.service),
        ("instance", process.instance),
        ("service_name", process.service),
        ("service_version", process.version),
        ("deployment_environment_name", "production"),
        *team_attributes(process),
    )


def _app_family(
    traffic: Traffic, scenario: Scenario, metric: Instrument, tally: PointTally
) -> Iterator[StoredSeries]:
    per_run: dict[tuple[Labels, AppProcess], list[Sample]] = defaultdict(list)
    for request in traffic.app_requests:
        at = request.time + request.duration
        for attributes, value in _app_observations(metric, request):
            labels = (*_app_resource(request.process), *attributes)
            per_run[(labels, request.process)].append((at, value))
    runs_of: dict[Labels, list[AppProcess]] = defaultdict(list)
    for labels, process in per_run:
        runs_of[labels].append(process)
    if metric.metric_type is MetricType.COUNTER:
        yield from _app_counters(per_run, runs_of, scenario, metric, tally)
        return
    for labels in sorted(runs_of):
        histogram = _HistogramSeries(metric.buckets)
        for process in sorted(runs_of[labels], key=lambda run: run.start):
            observations = sorted(per_run[(labels, process)])
            ticks = export_ticks(process.start, process.end, scenario.export_interval)
            start = process.start if scenario.start_zero_samples else None
            histogram.fill(observations, ticks, start)
        tally.metric_points.extend(t for t, _, _, _ in histogram.samples)
        tally.series_lifetimes.append((histogram.samples[0][0], histogram.samples[-1][0]))
        yield from histogram.as_series(metric.prometheus_name, labels)


def _app_counters(
    per_run: dict[tuple[Labels, AppProcess], list[Sample]],
    runs_of: dict[Labels, list[AppProcess]],
    scenario: Scenario,
    metric: Instrument,
    tally: PointTally,
) -> Iterator[StoredSeries]:
    """An app's counters (the 2026 token counters): cumulative per process, reset at restarts."""
    for labels in sorted(runs_of):
        samples: list[Sample] = []
        for process in sorted(runs_of[labels], key=lambda run: run.start):
            ticks = export_ticks(process.start, process.end, scenario.export_interval)
            start = process.start if scenario.start_zero_samples else None
            samples.extend(_cumulative(sorted(per_run[(labels, process)]), ticks, start))
        tally.metric_points.extend(t for t, _ in samples)
        tally.series_lifetimes.append((samples[0][0], samples[-1][0]))
        yield StoredSeries(metric.prometheus_name, labels, samples)


# --- Tempo metrics-generator -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _SpanRecord:
    received: float
    duration: float
    failed: bool


def _spans_by_series(traffic: Traffic) -> dict[Labels, list[_SpanRecord]]:
    series: dict[Labels, list[_SpanRecord]] = defaultdict(list)
    for request in traffic.app_requests:
        llm = request.llm
        server: Labels = (
            ("service", request.process.service),
            ("span_name", f"{request.method} {request.route}"),
            ("span_kind", "SPAN_KIND_SERVER"),
            (
                "status_code",
                "STATUS_CODE_ERROR" if request.status_code >= 500 else "STATUS_CODE_UNSET",
            ),
        )
        server_end = request.time + request.duration
        series[server].append(
            _SpanRecord(
                server_end + SPAN_RECEIPT_DELAY, request.duration, request.status_code >= 500
            )
        )
        client: Labels = (
            ("service", request.process.service),
            ("span_name", f"{llm.operation} {llm.model}"),
            ("span_kind", "SPAN_KIND_CLIENT"),
            ("status_code", "STATUS_CODE_ERROR" if llm.error_type else "STATUS_CODE_UNSET"),
            ("gen_ai_request_model", llm.model),
            ("gen_ai_operation_name", llm.operation),
            # Apps before v1.37 name the provider gen_ai.system, not a span-metrics dimension.
            *(
                (("gen_ai_provider_name", llm.provider),)
                if request.process.conventions != "v1.36"
                else ()
            ),
        )
        series[client].append(
            _SpanRecord(
                llm.start + llm.duration + SPAN_RECEIPT_DELAY, llm.duration, bool(llm.error_type)
            )
        )
    return series


def _edges_by_series(traffic: Traffic) -> dict[Labels, list[_SpanRecord]]:
    """Service-graph edges: callers (`user`) to each app, each app to its LLM provider."""
    edges: dict[Labels, list[_SpanRecord]] = defaultdict(list)
    for request in traffic.app_requests:
        llm = request.llm
        inbound: Labels = (
            ("client", "user"),
            ("server", request.process.service),
            ("connection_type", "virtual_node"),
        )
        edges[inbound].append(
            _SpanRecord(
                request.time + request.duration + SPAN_RECEIPT_DELAY,
                request.duration,
                request.status_code >= 500,
            )
        )
        outbound: Labels = (
            ("client", request.process.service),
            ("server", llm.provider),
            ("connection_type", "virtual_node"),
        )
        edges[outbound].append(
            _SpanRecord(
                llm.start + llm.duration + SPAN_RECEIPT_DELAY, llm.duration, bool(llm.error_type)
            )
        )
    return edges


def _tempo_segments(
    records: list[_SpanRecord], scenario: Scenario, traffic: Traffic
) -> list[list[_SpanRecord]]:
    """Runs of spans one in-memory series lives through (stale gaps and restarts end a run)."""
    restarts = sorted(outage.end for outage in traffic.outages if outage.job == "tempo")
    down = [(outage.start, outage.end) for outage in traffic.outages if outage.job == "tempo"]
    segments: list[list[_SpanRecord]] = []
    previous: _SpanRecord | None = None
    for record in sorted(records, key=lambda r: r.received):
        if any(start <= record.received < end for start, end in down):
            continue  # Tempo was down: the collector's retries gave up on these spans
        restarted = previous is not None and any(
            previous.received < restart <= record.received for restart in restarts
        )
        if previous is None or restarted or record.received - previous.received > TEMPO_STALE_AFTER:
            segments.append([])
        segments[-1].append(record)
        previous = record
    return segments


def _tempo_ticks(segment: list[_SpanRecord], scenario: Scenario, traffic: Traffic) -> list[float]:
    interval = scenario.tempo_interval
    first = math.ceil((segment[0].received - scenario.start) / interval)
    last_alive = segment[-1].received + TEMPO_STALE_AFTER
    for outage in traffic.outages:
        if outage.job == "tempo" and segment[-1].received < outage.start < last_alive:
            last_alive = outage.start
    last = math.floor((min(last_alive, scenario.end) - scenario.start) / interval)
    return [round(scenario.start + k * interval, 3) for k in range(first, last + 1)]


def _leading_zero(ticks: list[float], previous_sample: float | None) -> float:
    """When Tempo writes a new series' zero: a minute before its first sample (Tempo >= 2.1 for
    counters, PR #2068; classic histogram buckets and count, PRs #4140 and #4368), after any
    earlier sample of the same labels."""
    zero = ticks[0] - 60.0
    if previous_sample is not None and zero <= previous_sample:
        zero = (previous_sample + ticks[0]) / 2
    return zero


def _tempo_counter_family(
    records_by_series: dict[Labels, list[_SpanRecord]],
    name: str,
    scenario: Scenario,
    traffic: Traffic,
    failed_only: bool = False,
) -> Iterator[StoredSeries]:
    for labels in sorted(records_by_series):
        samples: list[Sample] = []
        records = [r for r in records_by_series[labels] if r.failed or not failed_only]
        for segment in _tempo_segments(records, scenario, traffic) if records else []:
            increments = [(r.received, 1.0) for r in segment]
            ticks = _tempo_ticks(segment, scenario, traffic)
            if ticks:
                zero = _leading_zero(ticks, samples[-1][0] if samples else None)
                samples.extend(_cumulative(increments, ticks, zero))
        if samples:
            yield StoredSeries(name, labels, samples)


def _tempo_histogram_family(
    records_by_series: dict[Labels, list[_SpanRecord]],
    base: str,
    buckets: tuple[float, ...],
    scenario: Scenario,
    traffic: Traffic,
) -> Iterator[StoredSeries]:
    for labels in sorted(records_by_series):
        histogram = _HistogramSeries(buckets)
        for segment in _tempo_segments(records_by_series[labels], scenario, traffic):
            ticks = _tempo_ticks(segment, scenario, traffic)
            if ticks:
                previous = histogram.samples[-1][0] if histogram.samples else None
                # Tempo 3.0 seeds no zero on `_sum` (added later by PR #7811): unconfirmed which
                # release first has it, so the generator keeps the older behaviour.
                histogram.fill(
                    [(r.received, r.duration) for r in segment],
                    ticks,
                    _leading_zero(ticks, previous),
                    zero_sum=False,
                )
        if histogram.samples:
            yield from histogram.as_series(base, labels)


# --- the stack's own health --------------------------------------------------------------------


def _scrape_ticks(scenario: Scenario) -> list[float]:
    count = int(scenario.days * 86_400 / scenario.scrape_interval)
    return [round(scenario.start + k * scenario.scrape_interval, 3) for k in range(1, count + 1)]


def _is_down(traffic: Traffic, job: str, time: float) -> bool:
    return any(o.job == job and o.start <= time < o.end for o in traffic.outages)


def _counter_from_times(
    times: list[float], ticks: list[float], traffic: Traffic, job: str
) -> list[Sample]:
    """A scraped counter of events; it restarts from zero after its process was down."""
    times = sorted(times)
    restarts = [o.end for o in traffic.outages if o.job == job]
    samples = []
    for tick in ticks:
        if _is_down(traffic, job, tick):
            continue
        since = max([restart for restart in restarts if restart <= tick], default=-math.inf)
        samples.append(
            (tick, float(bisect.bisect_right(times, tick) - bisect.bisect_right(times, since)))
        )
    return samples


def _health_families(traffic: Traffic, scenario: Scenario, tally: PointTally) -> Iterator[Family]:
    ticks = _scrape_ticks(scenario)
    collector = (("job", "otel-collector"), ("instance", SCRAPE_TARGETS["otel-collector"]))
    spans_down = [t for t in tally.spans if _is_down(traffic, "tempo", t)]
    spans_up = [t for t in tally.spans if not _is_down(traffic, "tempo", t)]
    logs = sorted(tally.log_records)

    def up_series() -> Iterator[StoredSeries]:
        for job, instance in SCRAPE_TARGETS.items():
            samples = [(t, 0.0 if _is_down(traffic, job, t) else 1.0) for t in ticks]
            yield StoredSeries("up", (("job", job), ("instance", instance)), samples)

    def collector_counter(name: str, extra: Labels, times: list[float]) -> Iterator[StoredSeries]:
        yield StoredSeries(
            name, (*collector, *extra), _counter_from_times(times, ticks, traffic, "otel-collector")
        )

    otlp = (("receiver", "otlp"), ("transport", "grpc"))
    yield Family("up", MetricType.GAUGE, catalog.UP.description, up_series())
    pairs = [
        (catalog.COLLECTOR_ACCEPTED_POINTS, otlp, tally.metric_points),
        (catalog.COLLECTOR_REFUSED_POINTS, otlp, []),
        (catalog.COLLECTOR_REFUSED_SPANS, otlp, []),
        (catalog.COLLECTOR_REFUSED_LOGS, otlp, []),
        (catalog.COLLECTOR_ACCEPTED_SPANS, otlp, tally.spans),
        (catalog.COLLECTOR_ACCEPTED_LOGS, otlp, logs),
        (
            catalog.COLLECTOR_SENT_POINTS,
            (("exporter", "otlp_http/prometheus"),),
            tally.metric_points,
        ),
        (catalog.COLLECTOR_FAILED_POINTS, (("exporter", "otlp_http/prometheus"),), []),
        (catalog.COLLECTOR_SENT_SPANS, (("exporter", "otlp_grpc/tempo"),), spans_up),
        (catalog.COLLECTOR_FAILED_SPANS, (("exporter", "otlp_grpc/tempo"),), spans_down),
        (catalog.COLLECTOR_SENT_LOGS, (("exporter", "otlp_http/loki"),), logs),
        (catalog.COLLECTOR_FAILED_LOGS, (("exporter", "otlp_http/loki"),), []),
    ]
    for metric, extra, times in pairs:
        yield Family(
            _family_name(metric),
            metric.metric_type,
            metric.description,
            collector_counter(metric.name, extra, times),
        )
    # Bytes on disk: about QUEUED_SPAN_BYTES per span waiting while Tempo is down.
    queue = [
        (
            t,
            float(
                sum(QUEUED_SPAN_BYTES for s in spans_down if s <= t)
                if _is_down(traffic, "tempo", t)
                else 0
            ),
        )
        for t in ticks
    ]
    yield Family(
        catalog.COLLECTOR_QUEUE_SIZE.name,
        MetricType.GAUGE,
        catalog.COLLECTOR_QUEUE_SIZE.description,
        [
            StoredSeries(
                catalog.COLLECTOR_QUEUE_SIZE.name,
                (*collector, ("exporter", "otlp_grpc/tempo")),
                queue,
            )
        ],
    )
    yield from _delivery_families(traffic, ticks, collector)
    yield Family(
        catalog.PROMETHEUS_HEAD_SERIES.name,
        MetricType.GAUGE,
        catalog.PROMETHEUS_HEAD_SERIES.description,
        [_head_series(tally, ticks)],
    )
    loki = (("job", "loki"), ("instance", SCRAPE_TARGETS["loki"]), ("tenant", LOKI_TENANT))
    yield Family(
        _family_name(catalog.LOKI_LINES_RECEIVED),
        MetricType.COUNTER,
        catalog.LOKI_LINES_RECEIVED.description,
        [
            StoredSeries(
                catalog.LOKI_LINES_RECEIVED.name,
                loki,
                _counter_from_times(logs, ticks, traffic, "loki"),
            )
        ],
    )
    tempo = (("job", "tempo"), ("instance", SCRAPE_TARGETS["tempo"]), ("tenant", TEMPO_TENANT))
    yield Family(
        _family_name(catalog.TEMPO_SPANS_RECEIVED),
        MetricType.COUNTER,
        catalog.TEMPO_SPANS_RECEIVED.description,
        [
            StoredSeries(
                catalog.TEMPO_SPANS_RECEIVED.name,
                tempo,
                _counter_from_times(spans_up, ticks, traffic, "tempo"),
            )
        ],
    )


def _delivery_families(traffic: Traffic, ticks: list[float], collector: Labels) -> Iterator[Family]:
    """Queue capacity and the delta-to-cumulative processor's work (configs/otel-collector)."""
    up = [t for t in ticks if not _is_down(traffic, "otel-collector", t)]

    def gauge(metric: catalog.NativeMetric, series: list[tuple[Labels, list[Sample]]]) -> Family:
        stored = [StoredSeries(metric.name, (*collector, *extra), s) for extra, s in series]
        return Family(metric.name, metric.metric_type, metric.description, stored)

    capacity = [(t, float(QUEUE_CAPACITY_BYTES)) for t in up]
    exporters = ("otlp_http/prometheus", "otlp_http/loki", "otlp_grpc/tempo")
    yield gauge(
        catalog.COLLECTOR_QUEUE_CAPACITY, [((("exporter", e),), capacity) for e in exporters]
    )
    # Claude Code's counters are the delta streams; each is held max_stale after its last point.
    streams: dict[tuple, tuple[float, float]] = {}
    for m in traffic.claude_code_measurements:
        key = (m.process.session_id, m.instrument, m.attributes)
        first, last = streams.get(key, (m.time, m.time))
        streams[key] = (min(first, m.time), max(last, m.time))
    starts = sorted(first for first, _ in streams.values())
    ends = sorted(last + DELTA_MAX_STALE_SECONDS for _, last in streams.values())
    tracked = [
        (t, float(bisect.bisect_right(starts, t) - bisect.bisect_right(ends, t))) for t in up
    ]
    yield gauge(catalog.DELTA_TO_CUMULATIVE_STREAMS, [((), tracked)])
    limit = [(t, float(DELTA_MAX_STREAMS)) for t in up]
    yield gauge(catalog.DELTA_TO_CUMULATIVE_STREAM_LIMIT, [((), limit)])
    points = [m.time for m in traffic.claude_code_measurements]
    metric = catalog.DELTA_TO_CUMULATIVE_POINTS
    yield Family(
        _family_name(metric),
        metric.metric_type,
        metric.description,
        [
            StoredSeries(
                metric.name,
                collector,
                _counter_from_times(points, ticks, traffic, "otel-collector"),
            ),
            # A team within its limits drops nothing: the error series stays at zero.
            StoredSeries(
                metric.name,
                (*collector, ("error", "limit")),
                _counter_from_times([], ticks, traffic, "otel-collector"),
            ),
        ],
    )


def _head_series(tally: PointTally, ticks: list[float]) -> StoredSeries:
    """Series with a sample in the last hour: close to what the head block holds."""
    starts = sorted(start for start, _ in tally.series_lifetimes)
    ends = sorted(end + 3600 for _, end in tally.series_lifetimes)
    samples = [
        (t, float(bisect.bisect_right(starts, t) - bisect.bisect_right(ends, t))) for t in ticks
    ]
    labels = (("job", "prometheus"), ("instance", SCRAPE_TARGETS["prometheus"]))
    return StoredSeries(catalog.PROMETHEUS_HEAD_SERIES.name, labels, samples)


# --- the stack's resource use ------------------------------------------------------------------

# Prometheus also scrapes the targets' other internal metrics (Go runtime, HTTP, ...): about this
# many series per scrape, whose samples count in samples appended.
SELF_SCRAPED_SERIES = 6000
MEMORY_WINDOW = 15 * 60.0  # recent work held in memory (queues, head chunks, live traces)
HEAP_SHARE_OF_RSS = 0.6


@dataclass(frozen=True)
class _ResourceModel:
    """A service's CPU and memory as a function of the work it does (items per scrape tick)."""

    idle_cores: float
    cpu_seconds_per_item: float
    idle_rss_bytes: float
    rss_bytes_per_recent_item: float


RESOURCE_MODELS = {
    "otel-collector": _ResourceModel(0.004, 20e-6, 70e6, 2_000),
    "prometheus": _ResourceModel(0.010, 2e-6, 180e6, 300),
    "loki": _ResourceModel(0.006, 50e-6, 110e6, 4_000),
    "tempo": _ResourceModel(0.008, 100e-6, 150e6, 8_000),
    "grafana": _ResourceModel(0.003, 0.0, 130e6, 0.0),
}


def _tick_index(time: float, scenario: Scenario) -> int:
    """k of the scrape tick start + k*interval whose interval (previous tick, tick] holds `time`."""
    return math.ceil(round((time - scenario.start) / scenario.scrape_interval, 9))


def _per_tick(times: Iterable[float], scenario: Scenario) -> Counter[int]:
    return Counter(_tick_index(time, scenario) for time in times)


def _resource_series(
    job: str,
    items: Counter[int],
    ticks: list[float],
    scenario: Scenario,
    traffic: Traffic,
    names: tuple[str, str],
) -> tuple[StoredSeries, StoredSeries]:
    """CPU-seconds counter and RSS gauge of one service; both restart when the service does."""
    model = RESOURCE_MODELS[job]
    window = max(int(MEMORY_WINDOW / scenario.scrape_interval), 1)
    restarts = sorted(o.end for o in traffic.outages if o.job == job)
    cpu_total, recent, cpu, rss = 0.0, 0, [], []
    for index, tick in enumerate(ticks, start=1):
        recent += items[index] - items[index - window]
        if _is_down(traffic, job, tick):
            continue
        if restarts and tick - scenario.scrape_interval < restarts[0] <= tick:
            restarts.pop(0)
            cpu_total = 0.0
        cpu_total += (
            model.idle_cores * scenario.scrape_interval + model.cpu_seconds_per_item * items[index]
        )
        wobble = 1.0 + 0.03 * math.sin(2 * math.pi * (tick - scenario.start) / (6 * 3600))
        cpu.append((tick, round(cpu_total, 4)))
        rss.append(
            (
                tick,
                float(
                    int(model.idle_rss_bytes * wobble + model.rss_bytes_per_recent_item * recent)
                ),
            )
        )
    labels = (("job", job), ("instance", SCRAPE_TARGETS[job]))
    return StoredSeries(names[0], labels, cpu), StoredSeries(names[1], labels, rss)


def _resource_families(
    traffic: Traffic, scenario: Scenario, tally: PointTally, scraped_series: int
) -> Iterator[Family]:
    ticks = _scrape_ticks(scenario)
    for index in range(1, len(ticks) + 1):
        tally.appended_per_tick[index] += scraped_series + SELF_SCRAPED_SERIES
    work = {
        "otel-collector": _per_tick(
            itertools.chain(tally.metric_points, tally.spans, tally.log_records), scenario
        ),
        "prometheus": tally.appended_per_tick,
        "loki": _per_tick(tally.log_records, scenario),
        "tempo": _per_tick(tally.spans, scenario),
        "grafana": Counter(),
    }
    prometheus = (("job", "prometheus"), ("instance", SCRAPE_TARGETS["prometheus"]))
    appended, total = [], 0
    for index, tick in enumerate(ticks, start=1):
        total += tally.appended_per_tick[index]
        if not _is_down(traffic, "prometheus", tick):
            appended.append((tick, float(total)))
    metric = catalog.PROMETHEUS_SAMPLES_APPENDED
    yield Family(
        _family_name(metric),
        metric.metric_type,
        metric.description,
        [StoredSeries(metric.name, (*prometheus, ("type", "float")), appended)],
    )
    collector = _resource_series(
        "otel-collector",
        work["otel-collector"],
        ticks,
        scenario,
        traffic,
        (catalog.COLLECTOR_PROCESS_CPU.name, catalog.COLLECTOR_PROCESS_MEMORY.name),
    )
    services = [
        _resource_series(
            job,
            work[job],
            ticks,
            scenario,
            traffic,
            (catalog.PROCESS_CPU.name, catalog.PROCESS_MEMORY.name),
        )
        for job in ("prometheus", "loki", "tempo", "grafana")
    ]
    # The Go heap is most of the collector's resident memory.
    heap = [(t, float(int(rss * HEAP_SHARE_OF_RSS))) for t, rss in collector[1].samples]
    for metric, series in (
        (catalog.COLLECTOR_PROCESS_CPU, [collector[0]]),
        (catalog.COLLECTOR_PROCESS_MEMORY, [collector[1]]),
        (
            catalog.COLLECTOR_HEAP,
            [StoredSeries(catalog.COLLECTOR_HEAP.name, collector[1].labels, heap)],
        ),
        (catalog.PROCESS_CPU, [cpu for cpu, _ in services]),
        (catalog.PROCESS_MEMORY, [memory for _, memory in services]),
    ):
        yield Family(_family_name(metric), metric.metric_type, metric.description, series)


def _counting(family: Family, tally: PointTally, scenario: Scenario) -> Family:
    """The same family; each series' samples are tallied as Prometheus appends them."""

    def series() -> Iterator[StoredSeries]:
        for stored in family.series:
            tally.appended_per_tick.update(_tick_index(t, scenario) for t, _ in stored.samples)
            yield stored

    return Family(family.name, family.metric_type, family.help, series())


# --- all of it ---------------------------------------------------------------------------------


def stored_families(traffic: Traffic, scenario: Scenario) -> Iterator[Family]:
    """Every family Prometheus holds for this traffic; lazy: consume in order (health is last)."""
    tally = PointTally()
    tally.log_records = [event.time for event in traffic.claude_code_events]
    tally.log_records += [r.time + r.duration for r in traffic.app_requests if r.writes_jsonl]
    for request in traffic.app_requests:
        tally.spans.append(request.time + request.duration + SPAN_RECEIPT_DELAY)
        tally.spans.append(request.llm.start + request.llm.duration + SPAN_RECEIPT_DELAY)
    for metric in catalog.CLAUDE_CODE.metrics:
        assert isinstance(metric, Instrument)
        series = _claude_code_family(traffic, scenario, metric, tally)
        family = Family(_family_name(metric), metric.metric_type, metric.description, series)
        yield _counting(family, tally, scenario)
    for metric in (*catalog.GENAI_APPS.metrics, *catalog.GENAI_GENERATIONS.metrics):
        assert isinstance(metric, Instrument)
        series = _app_family(traffic, scenario, metric, tally)
        family = Family(_family_name(metric), metric.metric_type, metric.description, series)
        yield _counting(family, tally, scenario)
    spans, edges = _spans_by_series(traffic), _edges_by_series(traffic)
    tempo_families = (
        (
            catalog.SPANMETRICS_CALLS,
            _tempo_counter_family(spans, catalog.SPANMETRICS_CALLS.name, scenario, traffic),
        ),
        (
            catalog.SPANMETRICS_LATENCY,
            _tempo_histogram_family(
                spans,
                catalog.SPANMETRICS_LATENCY.name,
                catalog.SPANMETRICS_BUCKETS,
                scenario,
                traffic,
            ),
        ),
        (
            catalog.SERVICE_GRAPH_REQUESTS,
            _tempo_counter_family(edges, catalog.SERVICE_GRAPH_REQUESTS.name, scenario, traffic),
        ),
        (
            catalog.SERVICE_GRAPH_FAILED,
            _tempo_counter_family(
                edges, catalog.SERVICE_GRAPH_FAILED.name, scenario, traffic, failed_only=True
            ),
        ),
        (
            catalog.SERVICE_GRAPH_SERVER_SECONDS,
            _tempo_histogram_family(
                edges,
                catalog.SERVICE_GRAPH_SERVER_SECONDS.name,
                catalog.SERVICE_GRAPH_BUCKETS,
                scenario,
                traffic,
            ),
        ),
        (
            catalog.SERVICE_GRAPH_CLIENT_SECONDS,
            _tempo_histogram_family(
                edges,
                catalog.SERVICE_GRAPH_CLIENT_SECONDS.name,
                catalog.SERVICE_GRAPH_BUCKETS,
                scenario,
                traffic,
            ),
        ),
    )
    for metric, series in tempo_families:
        family = Family(_family_name(metric), metric.metric_type, metric.description, series)
        yield _counting(family, tally, scenario)
    scraped_series = 2 * len(RESOURCE_MODELS) + 1  # the resource families' own series
    for family in _health_families(traffic, scenario, tally):
        health_series = list(family.series)
        scraped_series += len(health_series)
        yield Family(family.name, family.metric_type, family.help, health_series)
    yield from _resource_families(traffic, scenario, tally, scraped_series)
