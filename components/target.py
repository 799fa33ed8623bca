"""What a target hands the rest of the program: a Grafana provider and where its data lives.

`build_target` is the only place that knows local from cloud; everything after it (datasources,
folders, dashboards, alerting, exports) is declared the same way on both.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumiverse_grafana as grafana

from components.settings import Settings


@dataclass(frozen=True)
class DatasourceEndpoint:
    """How Grafana reaches one backend; basic auth only where the backend needs it (cloud)."""

    url: pulumi.Input[str]
    basic_auth_user: pulumi.Input[str] | None = None
    basic_auth_password: pulumi.Output[str] | None = None


@dataclass(frozen=True)
class DatasourceEndpoints:
    prometheus: DatasourceEndpoint
    loki: DatasourceEndpoint
    tempo: DatasourceEndpoint


@dataclass(frozen=True)
class Target:
    """The one small value a target component produces."""

    grafana_provider: grafana.Provider
    endpoints: DatasourceEndpoints
    # Stack outputs a user needs: Grafana URL, OTLP endpoints, the env block for apps.
    exports: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    # The datasource Grafana writes recorded series to: one the `prometheus` datasource reads.
    recording_datasource_uid: str = "prometheus"


def build_target(settings: Settings) -> Target:
    """Declare the target's infrastructure and return what the Grafana content needs."""
    if settings.target == "cloud":
        from components.cloud_stack import CloudStack, CloudStackArgs

        return CloudStack("cloud", CloudStackArgs.from_settings(settings)).target

    from components.local_stack import LocalStack, LocalStackArgs

    return LocalStack("local", LocalStackArgs.from_settings(settings)).target


def app_env_blocks(
    otlp_endpoint: pulumi.Input[str],
    protocol: str,
    headers: pulumi.Output[str] | None = None,
) -> dict[str, pulumi.Output[str]]:
    """Ready-to-paste shell env for Claude Code and for any OpenTelemetry SDK app.

    Temporality is cumulative: Prometheus's OTLP receiver rejects delta, and Claude Code
    defaults to delta.
    """
    common = [
        "export OTEL_METRICS_EXPORTER=otlp",
        "export OTEL_LOGS_EXPORTER=otlp",
        f"export OTEL_EXPORTER_OTLP_PROTOCOL={protocol}",
        "export OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=cumulative",
    ]

    def render(endpoint: str, extra: list[str], auth: str | None) -> str:
        lines = [*extra, *common, f"export OTEL_EXPORTER_OTLP_ENDPOINT={endpoint}"]
        if auth is not None:
            lines.append(f'export OTEL_EXPORTER_OTLP_HEADERS="{auth}"')
        return "\n".join(lines) + "\n"

    claude = ["export CLAUDE_CODE_ENABLE_TELEMETRY=1"]
    sdk = ["export OTEL_TRACES_EXPORTER=otlp", "export OTEL_SERVICE_NAME=my-llm-app"]
    auth: pulumi.Input[str | None] = headers if headers is not None else None
    blocks = {
        "claudeCodeEnv": pulumi.Output.all(otlp_endpoint, auth).apply(
            lambda args: render(args[0], claude, args[1])
        ),
        "otelSdkEnv": pulumi.Output.all(otlp_endpoint, auth).apply(
            lambda args: render(args[0], sdk, args[1])
        ),
    }
    return blocks
