"""Traces & Latency (seed 004): latency by operation from span metrics, cost and tokens by model,
and TraceQL searches for the calls worth opening.

Latency comes from the span metrics Tempo's metrics-generator derives from every span
(`traces_spanmetrics_*`, one series per service, span name, kind and status): seed 004 asked for
TraceQL `select(...) | group_by(...)`, which returns traces, not a time series. Span metrics count
and time spans but cannot add up a span attribute, so cost and tokens come from the apps' own
metrics (`gen_ai.usage.cost`, `gen_ai.client.token.usage`), as on the LLM Cost & Tokens dashboard.
Exemplars on the P95 panels link a latency point to a trace that produced it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

from grafana_foundation_sdk.builders import dashboard

from dashboards.cost_tokens import app_prices_note
from dashboards.panels import (
    PROMETHEUS,
    TEMPO,
    Section,
    build_dashboard,
    pie_panel,
    promql,
    promql_table,
    table_panel,
    timeseries_panel,
    traceql,
    traces_panel,
)
from dashboards.spec import OPERATIONS_FOLDER, DashboardSpec
from vocabulary import measures, names
from vocabulary.pricing import PricingTable

UID: Final = "llm-traces-latency"
RANGE: Final = "[$__range]"
RATE: Final = "[$__rate_interval]"

OPERATION: Final = (names.SPAN_SERVICE, names.SPAN_NAME)
HTTP_DURATION: Final = names.HTTP_DURATION


# Queries (the API dashboard and the number tests import these) --------------------------------


def _selector(matchers: str) -> str:
    return f"{{{matchers}}}" if matchers else ""


def _by(labels: Sequence[str]) -> str:
    return ", ".join(labels)


def _as_operation(vector: str, service: str, *name_parts: str) -> str:
    """Relabel an app metric's series as span metrics name them: `service` and `span_name`."""
    relabelled = f'label_replace({vector}, "service", "$1", "{service}", "(.*)")'
    parts = ", ".join(f'"{part}"' for part in name_parts)
    return f'label_join({relabelled}, "span_name", " ", {parts})'


def _operation_mean(
    series: Callable[[str], str], service: str, name_parts: Sequence[str], window: str
) -> str:
    """Sum over count per operation; `series(suffix)` selects the histogram's sum or count."""

    def per_operation(suffix: str) -> str:
        rate = f"rate({series(suffix)}{window})"
        return f"sum by ({_by(OPERATION)}) ({_as_operation(rate, service, *name_parts)})"

    return f"({per_operation('sum')} / {per_operation('count')})"


def request_average(window: str) -> str:
    """Mean duration (s) of the apps' requests, per service and span name (`POST /v1/chat`)."""
    return _operation_mean(
        lambda suffix: f"{HTTP_DURATION}_{suffix}",
        "job",
        ("http_request_method", "http_route"),
        window,
    )


def llm_call_average(window: str) -> str:
    """Mean duration (s) of the apps' LLM calls on either GenAI generation, per service and
    span name (`chat <model>`)."""
    return _operation_mean(
        measures.app_call_series,
        "service_name",
        ("gen_ai_operation_name", "gen_ai_request_model"),
        window,
    )


def operation_average(window: str) -> str:
    """Mean duration per operation, exact (sum over count) from the apps' own histograms.

    Not from span metrics: Tempo 3.0 seeds no zero on a new series' `_sum`, so where series come
    and go their `_sum / _count` runs low (docs/telemetry.md)."""
    return f"{llm_call_average(window)} or {request_average(window)}"


def span_quantile(
    quantile: float, window: str, by: Sequence[str] = OPERATION, matchers: str = ""
) -> str:
    """A span duration quantile from the recorded windows, interpolated inside its bucket;
    `matchers` is the inside of a selector's braces."""
    return measures.span_quantile(quantile, window, by, _selector(matchers))


def span_calls(window: str, by: Sequence[str] = OPERATION, matchers: str = "") -> str:
    return measures.span_calls(window, by, _selector(matchers))


def span_error_ratio(window: str, by: Sequence[str] = OPERATION, matchers: str = "") -> str:
    """Share of spans with status ERROR; 0 (not empty) for an operation without errors."""
    return measures.span_error_ratio(window, by, _selector(matchers))


def raw_span_quantile(quantile: float, window: str) -> str:
    """A span duration quantile per operation and rate window from the raw buckets, which
    carry the exemplars (recorded series have none)."""
    return (
        f"histogram_quantile({quantile}, "
        f"sum by (le, {_by(OPERATION)}) (rate({names.SPAN_BUCKETS}{window})))"
    )


def cost_by_model(window: str) -> str:
    """The apps' USD by response model (their gen_ai.usage.cost, else priced tokens)."""
    spend = measures.spend(window, [names.MODEL], measures.APPS)
    relabelled = f'label_replace({spend}, "{names.APP_MODEL}", "$1", "{names.MODEL}", "(.*)")'
    return f"sum by ({names.APP_MODEL}) ({relabelled})"


def cost_per_call_by_model(window: str) -> str:
    calls = measures.app_calls(window, [names.APP_MODEL], measures.SUCCESSFUL)
    return f"{cost_by_model(window)} / {calls}"


def tokens_by_kind(window: str) -> str:
    """The apps' prompt (input and cache) and completion (output) tokens, both generations."""
    by_type = measures.app_tokens(window, [names.APP_TOKEN_TYPE])
    prompt = (
        f'label_replace({by_type}, "kind", "prompt", "gen_ai_token_type", '
        f'"{measures.APP_PROMPT_TYPES}")'
    )
    both = f'label_replace({prompt}, "kind", "completion", "gen_ai_token_type", "output")'
    return f"sum by (kind) ({both})"


LLM_SPAN: Final = "span.gen_ai.operation.name != nil"
SLOW_LLM_CALLS: Final = f"{{ {LLM_SPAN} && duration > 10s }}"
FAILED_LLM_CALLS: Final = f"{{ {LLM_SPAN} && status = error }}"
EXPENSIVE_LLM_CALLS: Final = (
    "{ span.gen_ai.usage.cost > 0.05 } | select(span.gen_ai.request.model, "
    "span.gen_ai.usage.input_tokens, span.gen_ai.usage.output_tokens, span.gen_ai.usage.cost)"
)


# Panels ---------------------------------------------------------------------------------------

SPAN_METRICS_NOTE: Final = (
    f"From Tempo's span metrics ({names.SPAN_LATENCY}, buckets 0.1 s to 512 s), one line "
    "per service and span name: the apps' SERVER spans (`POST /v1/chat`) and their LLM CLIENT "
    "spans (`chat <model>`). On Grafana Cloud, Application Observability generates them for "
    "SERVER spans unless CLIENT spans are switched on (docs/cloud.md)."
)
LEGEND: Final = "{{service}} · {{span_name}}"


def _latency() -> Section:
    return Section(
        "Latency by operation (span metrics)",
        [
            timeseries_panel(
                "Average latency by operation",
                "Mean duration per rate window, exact (sum over count), named like the spans: "
                "LLM calls from gen_ai.client.operation.duration, requests from "
                "http.server.request.duration. Span metrics would run low here: Tempo 3.0 "
                "starts a new series' `_sum` without a zero sample.",
                "s",
                promql(operation_average(RATE), LEGEND),
            ),
            timeseries_panel(
                "P95 latency by operation",
                "95th percentile of span duration per rate window, interpolated inside its "
                "bucket. Dots are exemplars: each links to a trace in Tempo that fell in that "
                f"bucket. {SPAN_METRICS_NOTE}",
                "s",
                promql(raw_span_quantile(0.95, RATE), LEGEND).exemplar(True),
            ),
            table_panel(
                "Operations in range",
                "Per operation over the picker's range: spans and their share with status ERROR "
                "and P95 duration (span metrics), mean duration (the apps' own histograms, "
                f"exact). {SPAN_METRICS_NOTE}",
                "short",
                promql_table(span_calls(RANGE)),
                promql_table(span_error_ratio(RANGE)),
                promql_table(operation_average(RANGE)),
                promql_table(span_quantile(0.95, RANGE)),
                width=24,
                sort_by="P95 (s)",
                rename={
                    "service": "Service",
                    "span_name": "Operation",
                    "Value #A": "Spans",
                    "Value #B": "Error share",
                    "Value #C": "Mean (s)",
                    "Value #D": "P95 (s)",
                },
            ),
        ],
    )


def _cost(table: PricingTable) -> Section:
    return Section(
        "Cost and tokens (the apps' metrics)",
        [
            pie_panel(
                "Cost by model",
                f"The apps' USD in the picker's range by response model. {app_prices_note(table)}",
                "currencyUSD",
                promql(cost_by_model(RANGE), "{{gen_ai_response_model}}", instant=True),
            ),
            pie_panel(
                "Token split: prompt vs completion",
                "The apps' input (prompt) and output (completion) tokens in the picker's range "
                "(gen_ai.client.token.usage).",
                "short",
                promql(tokens_by_kind(RANGE), "{{kind}}", instant=True),
            ),
            table_panel(
                "Cost per successful LLM call by model",
                "The apps' USD over their successful LLM calls (no error.type) in the picker's "
                f"range, per response model. {app_prices_note(table)}",
                "currencyUSD",
                promql_table(cost_per_call_by_model(RANGE)),
                width=8,
                sort_by="USD per call",
                rename={"gen_ai_response_model": "Model", "Value": "USD per call"},
            ),
        ],
    )


def _traces() -> Section:
    return Section(
        "Traces (TraceQL search)",
        [
            traces_panel(
                "Slow LLM calls (> 10 s)",
                "Traces with a GenAI span (gen_ai.operation.name set) that took over 10 s, "
                "newest first in the picker's range. Open one for the whole request.",
                traceql(SLOW_LLM_CALLS),
                width=12,
            ),
            traces_panel(
                "Failed LLM calls",
                "Traces with a GenAI span whose status is ERROR (error.type says why: rate "
                "limit, timeout...), in the picker's range.",
                traceql(FAILED_LLM_CALLS),
                width=12,
            ),
            traces_panel(
                "Expensive LLM calls (> $0.05)",
                "Traces with a span whose gen_ai.usage.cost is above 0.05 USD, with the model "
                "and token counts of the matching spans, in the picker's range.",
                traceql(EXPENSIVE_LLM_CALLS),
            ),
        ],
    )


def build(table: PricingTable) -> dashboard.Dashboard:
    return build_dashboard(
        UID,
        "Traces & Latency",
        "Latency by operation from Tempo's span metrics, cost and token split of the LLM apps, "
        "and TraceQL searches for slow, failed and expensive calls. Click an exemplar dot on a "
        "P95 panel to open its trace.",
        [_latency(), _cost(table), _traces()],
        kinds=(PROMETHEUS, TEMPO),
        tags=["operations", "traces"],
        time_from="now-24h",
    )


SPEC: Final = DashboardSpec(UID, OPERATIONS_FOLDER, build)
