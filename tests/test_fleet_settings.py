"""The Claude Code settings each stack outputs for a fleet of laptops, against the collector and
Prometheus they are meant for, and against what Claude Code documents."""

import json
import shlex
from typing import Any

import pytest
import yaml

from components.local_stack import collector_service
from components.settings import LocalSettings
from tests.support import program
from tests.support.external import REPO_ROOT
from tools.synth import Plan

# Claude Code reads only its documented settings keys, and `env` holds only variables its
# "Monitoring" page documents (code.claude.com/docs/en/monitoring-usage; OTEL_RESOURCE_ATTRIBUTES
# under "Multi-team organization support").
DOCUMENTED_SETTINGS_KEYS = {"env"}
DOCUMENTED_ENV = {
    "CLAUDE_CODE_ENABLE_TELEMETRY",
    "OTEL_METRICS_EXPORTER",
    "OTEL_LOGS_EXPORTER",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
    "OTEL_RESOURCE_ATTRIBUTES",
    # the same page's beta traces section
    "CLAUDE_CODE_ENHANCED_TELEMETRY_BETA",
    "OTEL_TRACES_EXPORTER",
}
# Content switches (prompt text, tool arguments, tool input and output): they stay off.
CONTENT_SWITCHES = {"OTEL_LOG_USER_PROMPTS", "OTEL_LOG_TOOL_DETAILS", "OTEL_LOG_TOOL_CONTENT"}
TEAMS = {"payments": {"costCenter": "cc-4711"}, "platform": {}}
PROMETHEUS_CONFIG = REPO_ROOT / "configs" / "prometheus" / "prometheus.yml"
COLLECTOR_CONFIG = REPO_ROOT / "configs" / "otel-collector" / "config.yaml"
# OTEL_EXPORTER_OTLP_PROTOCOL -> the collector's OTLP receiver protocol that serves it.
RECEIVER_PROTOCOL = {"http/protobuf": "http", "http/json": "http", "grpc": "grpc"}


@pytest.fixture(scope="module")
def local_plan() -> Plan:
    return program.run({"fleet": {"teams": TEAMS}})


def shell_env(block: str) -> dict[str, str]:
    """`export K=V` lines as a mapping, read as a shell reads them."""
    env = {}
    for line in block.splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        env[key] = " ".join(shlex.split(value))
    return env


def documents(outputs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {"managed": json.loads(outputs["claudeCodeManagedSettings"])}
    for team, text in outputs.get("claudeCodeManagedSettingsByTeam", {}).items():
        found[team] = json.loads(text)
    return found


def test_every_settings_document_holds_only_documented_keys(local_plan: Plan) -> None:
    for name, document in documents(local_plan.revealed).items():
        assert set(document) <= DOCUMENTED_SETTINGS_KEYS, name
        assert set(document["env"]) <= DOCUMENTED_ENV, name
        assert all(isinstance(value, str) for value in document["env"].values()), name
    assert set(local_plan.revealed["claudeCodeSettingsEnv"]) <= DOCUMENTED_ENV


def test_prompts_and_tool_content_stay_off_in_every_block(local_plan: Plan) -> None:
    outputs = local_plan.revealed
    blocks = [outputs["claudeCodeEnv"], outputs["otelSdkEnv"], outputs["claudeCodeManagedSettings"]]
    blocks += list(outputs["claudeCodeManagedSettingsByTeam"].values())
    for block in blocks:
        assert not any(switch in block for switch in CONTENT_SWITCHES)


def test_the_managed_settings_and_make_env_set_the_same_exporter(local_plan: Plan) -> None:
    managed = json.loads(local_plan.revealed["claudeCodeManagedSettings"])["env"]

    assert managed == shell_env(local_plan.revealed["claudeCodeEnv"])
    assert managed == local_plan.revealed["claudeCodeSettingsEnv"]


def test_the_managed_settings_point_at_what_the_collector_receives(local_plan: Plan) -> None:
    env = json.loads(local_plan.revealed["claudeCodeManagedSettings"])["env"]
    local = LocalSettings()
    collector = collector_service(local)
    receivers = yaml.safe_load(COLLECTOR_CONFIG.read_text())["receivers"]["otlp"]["protocols"]
    protocol = RECEIVER_PROTOCOL[env["OTEL_EXPORTER_OTLP_PROTOCOL"]]
    container_port = int(receivers[protocol]["endpoint"].rsplit(":", 1)[1])

    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == (
        f"http://{local.bind_address}:{collector.ports[container_port]}"
    )
    # Prometheus's OTLP receiver refuses delta; the collector converts it, and is told cumulative.
    assert env["OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE"] == "cumulative"
    assert env["OTEL_METRICS_EXPORTER"] == env["OTEL_LOGS_EXPORTER"] == "otlp"
    assert env["CLAUDE_CODE_ENABLE_TELEMETRY"] == "1"


def test_each_team_gets_its_attributes_and_prometheus_promotes_them(local_plan: Plan) -> None:
    by_team = {
        team: dict(
            pair.split("=", 1) for pair in document["env"]["OTEL_RESOURCE_ATTRIBUTES"].split(",")
        )
        for team, document in documents(local_plan.revealed).items()
        if team != "managed"
    }
    promoted = yaml.safe_load(PROMETHEUS_CONFIG.read_text())["otlp"]["promote_resource_attributes"]

    assert by_team == {
        "payments": {"team": "payments", "cost_center": "cc-4711"},
        "platform": {"team": "platform"},
    }
    assert {"team", "cost_center"} <= set(promoted)
    assert "OTEL_RESOURCE_ATTRIBUTES" not in documents(local_plan.revealed)["managed"]["env"]


def test_without_teams_there_is_no_per_team_output() -> None:
    assert "claudeCodeManagedSettingsByTeam" not in program.run({}).outputs


def test_the_local_settings_carry_no_credential_and_are_not_secret(local_plan: Plan) -> None:
    assert local_plan.outputs["claudeCodeManagedSettings"] != "[secret]"
    env = json.loads(local_plan.outputs["claudeCodeManagedSettings"])["env"]
    assert "OTEL_EXPORTER_OTLP_HEADERS" not in env
