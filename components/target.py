"""What a target hands the rest of the program: a Grafana provider and where its data lives.

`build_target` in `__main__.py` is the only place that knows local from cloud; everything after
it (datasources, folders, dashboards, alerting, exports) is declared the same way on both.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumiverse_grafana as grafana

from components.settings import TeamAttribution


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


def claude_code_env(
    endpoint: str,
    protocol: str,
    headers: str | None = None,
    resource_attributes: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment Claude Code exports with, as its documented variables.

    Temporality is cumulative: Prometheus's OTLP receiver rejects delta, and Claude Code
    defaults to delta. Prompt text and tool details stay off (their OTEL_LOG_* switches unset).
    """
    env = {
        "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
        # Claude Code's traces are beta and off by default: they carry each request's time to
        # first token and link a costly session to its requests and tools.
        "CLAUDE_CODE_ENHANCED_TELEMETRY_BETA": "1",
        "OTEL_METRICS_EXPORTER": "otlp",
        "OTEL_LOGS_EXPORTER": "otlp",
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
        "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE": "cumulative",
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
    }
    if headers is not None:
        env["OTEL_EXPORTER_OTLP_HEADERS"] = headers
    if resource_attributes:
        env["OTEL_RESOURCE_ATTRIBUTES"] = ",".join(
            f"{key}={value}" for key, value in resource_attributes.items()
        )
    return env


def team_resource_attributes(team: str, attribution: TeamAttribution) -> dict[str, str]:
    """`team` and `cost_center`: the resource attributes promoted to labels on both targets."""
    attributes = {"team": team}
    if attribution.cost_center is not None:
        attributes["cost_center"] = attribution.cost_center
    return attributes


def settings_json(env: Mapping[str, str]) -> str:
    """A Claude Code settings document holding only its documented `env` key."""
    return json.dumps({"env": dict(env)}, indent=2) + "\n"


def app_env_blocks(
    otlp_endpoint: pulumi.Input[str],
    protocol: str,
    headers: pulumi.Output[str] | None = None,
    teams: Mapping[str, TeamAttribution] | None = None,
) -> dict[str, pulumi.Output[Any]]:
    """Ready-to-use settings for Claude Code and any OpenTelemetry SDK app.

    `claudeCodeEnv` and `otelSdkEnv` are shell blocks; `claudeCodeManagedSettings` is the
    managed-settings.json an MDM pushes to every laptop, `claudeCodeSettingsEnv` the `env`
    object of one user's ~/.claude/settings.json, and `claudeCodeManagedSettingsByTeam` one
    managed-settings.json per configured team. With `headers` (a secret) every one is secret.
    """
    auth: pulumi.Input[str | None] = headers if headers is not None else None
    destination = pulumi.Output.all(otlp_endpoint, auth)

    def shell(env: Mapping[str, str], extra: Mapping[str, str] | None = None) -> str:
        # The headers value is quoted as people paste it; the others have no shell specials.
        lines = [
            f'export {key}="{value}"'
            if key == "OTEL_EXPORTER_OTLP_HEADERS"
            else f"export {key}={value}"
            for key, value in {**(extra or {}), **env}.items()
        ]
        return "\n".join(lines) + "\n"

    def sdk_env(endpoint: str, header: str | None) -> str:
        env = claude_code_env(endpoint, protocol, header)
        for claude_code_only in (
            "CLAUDE_CODE_ENABLE_TELEMETRY",
            "CLAUDE_CODE_ENHANCED_TELEMETRY_BETA",
        ):
            del env[claude_code_only]
        sdk = {"OTEL_SERVICE_NAME": "my-llm-app"}
        return shell(env, sdk)

    blocks: dict[str, pulumi.Output[Any]] = {
        "claudeCodeEnv": destination.apply(lambda a: shell(claude_code_env(a[0], protocol, a[1]))),
        "otelSdkEnv": destination.apply(lambda a: sdk_env(a[0], a[1])),
        "claudeCodeManagedSettings": destination.apply(
            lambda a: settings_json(claude_code_env(a[0], protocol, a[1]))
        ),
        "claudeCodeSettingsEnv": destination.apply(lambda a: claude_code_env(a[0], protocol, a[1])),
    }
    if teams:
        blocks["claudeCodeManagedSettingsByTeam"] = destination.apply(
            lambda a: {
                team: settings_json(
                    claude_code_env(
                        a[0], protocol, a[1], team_resource_attributes(team, attribution)
                    )
                )
                for team, attribution in teams.items()
            }
        )
    return blocks
