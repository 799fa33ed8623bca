"""The OTLP -> Prometheus naming port gives the names Prometheus's translator gives."""

import pytest

from tools.telemetry.naming import MetricType, prometheus_label_name, prometheus_metric_name


@pytest.mark.parametrize(
    ("otel_name", "unit", "metric_type", "expected"),
    [
        ("claude_code.cost.usage", "USD", MetricType.COUNTER, "claude_code_cost_usage_USD_total"),
        (
            "claude_code.token.usage",
            "tokens",
            MetricType.COUNTER,
            "claude_code_token_usage_tokens_total",
        ),
        (
            "claude_code.session.count",
            "count",
            MetricType.COUNTER,
            "claude_code_session_count_total",
        ),
        (
            "claude_code.active_time.total",
            "s",
            MetricType.COUNTER,
            "claude_code_active_time_seconds_total",
        ),
        ("gen_ai.client.token.usage", "{token}", MetricType.HISTOGRAM, "gen_ai_client_token_usage"),
        (
            "gen_ai.client.operation.duration",
            "s",
            MetricType.HISTOGRAM,
            "gen_ai_client_operation_duration_seconds",
        ),
        ("gen_ai.usage.cost", "USD", MetricType.HISTOGRAM, "gen_ai_usage_cost_USD"),
        (
            "http.server.request.duration",
            "s",
            MetricType.HISTOGRAM,
            "http_server_request_duration_seconds",
        ),
        ("requests.count", "1", MetricType.COUNTER, "requests_count_total"),
        ("memory.usage", "By", MetricType.GAUGE, "memory_usage_bytes"),
        ("cpu.utilization", "1", MetricType.GAUGE, "cpu_utilization_ratio"),
        ("network.io", "By/s", MetricType.GAUGE, "network_io_bytes_per_second"),
    ],
)
def test_metric_names_follow_the_otlp_translator(
    otel_name: str, unit: str, metric_type: MetricType, expected: str
) -> None:
    assert prometheus_metric_name(otel_name, unit, metric_type) == expected


@pytest.mark.parametrize(
    ("attribute", "label"),
    [
        ("session.id", "session_id"),
        ("gen_ai.request.model", "gen_ai_request_model"),
        ("http.response.status_code", "http_response_status_code"),
        ("2xx.rate", "key_2xx_rate"),
        ("_private", "key_private"),
    ],
)
def test_attribute_names_become_labels_like_prometheus_makes_them(
    attribute: str, label: str
) -> None:
    assert prometheus_label_name(attribute) == label
