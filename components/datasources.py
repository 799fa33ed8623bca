"""Prometheus, Loki and Tempo datasources with fixed UIDs, cross-linked, on either target.

Dashboards and alert rules refer to these UIDs, so the same content works on local Docker
and on Grafana Cloud. Links: Prometheus exemplars -> Tempo; Tempo traces -> Loki logs and
Prometheus span metrics, service map from Prometheus; Loki `trace_id` -> Tempo.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

import pulumi
import pulumiverse_grafana as grafana

from components.target import DatasourceEndpoint, DatasourceEndpoints

PROMETHEUS_UID: Final = "prometheus"
LOKI_UID: Final = "loki"
TEMPO_UID: Final = "tempo"
# The OTLP export interval (SDKs and Claude Code export every 60 s): Grafana's
# $__rate_interval is at least 4x this, so rate() windows always hold several OTLP samples.
SCRAPE_INTERVAL: Final = "60s"


def prometheus_json_data() -> dict[str, Any]:
    return {
        "httpMethod": "POST",
        "timeInterval": SCRAPE_INTERVAL,
        "prometheusType": "Prometheus",
        "exemplarTraceIdDestinations": [
            {"name": "trace_id", "datasourceUid": TEMPO_UID, "urlDisplayLabel": "View trace"}
        ],
    }


def loki_json_data() -> dict[str, Any]:
    return {
        # OTLP logs carry trace_id as structured metadata; "label" matches it by name.
        "derivedFields": [
            {
                "name": "trace_id",
                "matcherType": "label",
                "matcherRegex": "trace_id",
                "datasourceUid": TEMPO_UID,
                "url": "${__value.raw}",
                "urlDisplayLabel": "View trace",
            }
        ],
    }


def tempo_json_data() -> dict[str, Any]:
    service_tag = [{"key": "service.name", "value": "service"}]
    return {
        "tracesToLogsV2": {
            "datasourceUid": LOKI_UID,
            "spanStartTimeShift": "-5m",
            "spanEndTimeShift": "5m",
            "filterByTraceID": True,
            "filterBySpanID": False,
            "tags": [{"key": "service.name", "value": "service_name"}],
        },
        "tracesToMetrics": {
            "datasourceUid": PROMETHEUS_UID,
            "spanStartTimeShift": "-5m",
            "spanEndTimeShift": "5m",
            "tags": service_tag,
            "queries": [
                {
                    "name": "Span rate",
                    "query": "sum(rate(traces_spanmetrics_calls_total{$__tags}[5m]))",
                },
                {
                    "name": "Span P95 latency (s)",
                    "query": "histogram_quantile(0.95, sum by (le) "
                    "(rate(traces_spanmetrics_latency_bucket{$__tags}[5m])))",
                },
            ],
        },
        "serviceMap": {"datasourceUid": PROMETHEUS_UID},
        "nodeGraph": {"enabled": True},
        "lokiSearch": {"datasourceUid": LOKI_UID},
        "search": {"hide": False},
    }


@dataclass(frozen=True)
class DatasourcesArgs:
    endpoints: DatasourceEndpoints
    provider: grafana.Provider


class Datasources(pulumi.ComponentResource):
    """The three datasources every dashboard and alert rule refers to by UID."""

    def __init__(
        self, name: str, args: DatasourcesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("llm-o11y:datasources:Datasources", name, None, opts)
        endpoints = args.endpoints
        self.prometheus = self._datasource(
            name,
            args,
            "prometheus",
            PROMETHEUS_UID,
            "Prometheus",
            endpoints.prometheus,
            prometheus_json_data(),
            is_default=True,
        )
        self.loki = self._datasource(
            name, args, "loki", LOKI_UID, "Loki", endpoints.loki, loki_json_data()
        )
        self.tempo = self._datasource(
            name, args, "tempo", TEMPO_UID, "Tempo", endpoints.tempo, tempo_json_data()
        )
        self.register_outputs({"uids": [self.prometheus.uid, self.loki.uid, self.tempo.uid]})

    def _datasource(
        self,
        name: str,
        args: DatasourcesArgs,
        kind: str,
        uid: str,
        display_name: str,
        endpoint: DatasourceEndpoint,
        json_data: dict[str, Any],
        is_default: bool = False,
    ) -> grafana.oss.DataSource:
        secure: pulumi.Output[str] | None = None
        if endpoint.basic_auth_password is not None:
            secure = pulumi.Output.secret(endpoint.basic_auth_password).apply(
                lambda password: json.dumps({"basicAuthPassword": password})
            )
        return grafana.oss.DataSource(
            f"{name}-{kind}",
            type=kind,
            uid=uid,
            name=display_name,
            url=endpoint.url,
            access_mode="proxy",
            is_default=is_default,
            basic_auth_enabled=endpoint.basic_auth_user is not None,
            basic_auth_username=endpoint.basic_auth_user,
            json_data_encoded=json.dumps(json_data, sort_keys=True),
            secure_json_data_encoded=secure,
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider),
        )
