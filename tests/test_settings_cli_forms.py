"""Settings written the way `pulumi config set` writes them are read like hand-written ones.

Without `--path` the CLI stores a dotted key flat (`llm-o11y:local.ports.grafana: "3001"`); with
`--path` it nests the value and types only integers and `true`/`false`, so `0.02` arrives as the
string "0.02". Every value type is read in both forms, and a bad value is refused in both forms
naming the key.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.settings import Settings, SettingsError, parse_settings
from tests.support import program
from tools.synth import run_program, stack_config

# (dotted key, value as the CLI stores it, how to read it back, the value expected, a bad value)
CASES: list[tuple[str, str, Callable[[Settings], Any], Any, str, str]] = [
    (
        "local.ports.grafana",
        "3001",
        lambda s: s.local.ports.grafana,
        3001,
        "70000",
        "Input should be less than or equal to 65535 (got 70000)",
    ),
    (
        "local.retentionDays.loki",
        "7",
        lambda s: s.local.retention_days.loki,
        7,
        "7d",
        "Input should be a valid integer (got '7d')",
    ),
    (
        "alerting.thresholds.costPerOperationUsd",
        "0.02",
        lambda s: s.alerting.thresholds.cost_per_operation_usd,
        0.02,
        "-0.5",
        "Input should be greater than 0 (got -0.5)",
    ),
    (
        "alerting.thresholds.anomalyFactor",
        "2.5",
        lambda s: s.alerting.thresholds.anomaly_factor,
        2.5,
        "lots",
        "Input should be a valid number (got 'lots')",
    ),
    (
        "local.bindAddress",
        "0.0.0.0",
        lambda s: str(s.local.bind_address),
        "0.0.0.0",
        "localhost",
        "must be an IP address",
    ),
    (
        "alerting.team",
        "payments",
        lambda s: s.alerting.team,
        "payments",
        "no spaces allowed",
        "must be letters, digits, '_', '.' or '-'",
    ),
    (
        "alerting.notifications.groupWait",
        "45s",
        lambda s: s.alerting.notifications.group_wait,
        "45s",
        "soon",
        "must be a duration",
    ),
    ("target", "local", lambda s: s.target, "local", "aws", "Input should be 'local' or 'cloud'"),
]
CLOUD = {"organization": "acme", "create": {"slug": "acmellm", "region": "us"}}
BOOL_CASE = ("cloud.deleteProtection", "false", "maybe", "Input should be a valid boolean")


def nested(dotted: str, value: Any) -> dict[str, str]:
    """The `--path` form: the value inside its top-level key, JSON-encoded as Pulumi passes it."""
    top, *rest = dotted.split(".")
    if not rest:
        return {top: value}
    document: Any = value
    for part in reversed(rest):
        document = {part: document}
    return {top: json.dumps(document)}


def ids(cases: list) -> list[str]:
    return [case[0] for case in cases]


@pytest.mark.parametrize(
    ("key", "text", "read", "expected", "bad", "message"), CASES, ids=ids(CASES)
)
def test_both_forms_are_read_alike(
    key: str, text: str, read: Callable[[Settings], Any], expected: Any, bad: str, message: str
) -> None:
    flat = parse_settings({key: text}, set())
    path_form = parse_settings(nested(key, text), set())
    assert read(flat) == read(path_form) == expected
    # What `--path` writes for integers, and what a hand-written file has for every number.
    if isinstance(expected, int | float):
        assert read(parse_settings(nested(key, expected), set())) == expected


@pytest.mark.parametrize(
    ("key", "text", "read", "expected", "bad", "message"), CASES, ids=ids(CASES)
)
def test_a_bad_value_is_refused_naming_the_key_in_both_forms(
    key: str, text: str, read: Callable[[Settings], Any], expected: Any, bad: str, message: str
) -> None:
    for form in ({key: bad}, nested(key, bad)):
        error = program.rejection(form)
        assert f"llm-o11y:{key}: {message}" in error, form


def test_booleans_in_both_forms() -> None:
    key, text, bad, message = BOOL_CASE
    base = {"target": "cloud", "cloud": json.dumps(CLOUD)}
    secrets = {"cloudAccessPolicyToken"}
    values = {**base, "cloudAccessPolicyToken": "glc_x", key: text}
    assert parse_settings(values, secrets).cloud.delete_protection is False  # type: ignore[union-attr]
    as_path = {**values, "cloud": json.dumps({**CLOUD, "deleteProtection": "false"})}
    del as_path[key]
    assert parse_settings(as_path, secrets).cloud.delete_protection is False  # type: ignore[union-attr]
    typed = {**as_path, "cloud": json.dumps({**CLOUD, "deleteProtection": False})}
    assert parse_settings(typed, secrets).cloud.delete_protection is False  # type: ignore[union-attr]
    for form in ({**values, key: bad}, {**as_path, "cloud": json.dumps({**CLOUD, key[6:]: bad})}):
        with pytest.raises(SettingsError, match=f"llm-o11y:{key}: {message}"):
            parse_settings(form, secrets)


def test_lists_set_with_path_and_refused_as_flat_keys() -> None:
    receivers = [{"name": "oncall", "severities": ["critical"], "email": {"addresses": ["a@b.co"]}}]
    settings = parse_settings({"alerting": json.dumps({"receivers": receivers})}, set())
    assert settings.alerting.receivers[0].severities == ["critical"]
    error = program.rejection({"alerting.receivers[0].name": "oncall"})
    assert "llm-o11y:alerting.receivers[0].name: not a setting name" in error
    assert "pulumi config set --path 'alerting.receivers[0].name'" in error


def test_a_flat_secret_stays_secret() -> None:
    settings = parse_settings(
        {"grafanaAdminPassword": "a-long-enough-password"}, {"grafanaAdminPassword"}
    )
    assert settings.grafana_admin_password is not None
    error = program.rejection({}, {"grafanaAdminPassword": "short"})
    assert "llm-o11y:grafanaAdminPassword: must be at least 12 characters" in error


def test_a_flat_key_wins_over_the_same_setting_in_the_files_block() -> None:
    # `pulumi config set local.bindAddress ...` on the shipped stack file, which lists every key.
    settings = parse_settings(
        {
            "local": json.dumps({"bindAddress": "127.0.0.1", "ports": {"grafana": 3000}}),
            "local.bindAddress": "10.0.0.5",
            "local.ports": json.dumps({"loki": 3101}),
            "local.ports.loki": "3102",
        },
        set(),
    )
    assert str(settings.local.bind_address) == "10.0.0.5"
    assert (settings.local.ports.grafana, settings.local.ports.loki) == (3000, 3102)


def test_a_flat_key_under_a_setting_that_is_not_a_mapping_is_refused() -> None:
    error = program.rejection({"target": "local", "target.kind": "x"})
    assert "llm-o11y:target.kind: its parent setting is not a mapping" in error


def test_flat_and_nested_keys_combine() -> None:
    settings = parse_settings(
        {"local": json.dumps({"ports": {"grafana": 3001}}), "local.ports.loki": "3101"}, set()
    )
    assert (settings.local.ports.grafana, settings.local.ports.loki) == (3001, 3101)


def test_a_stack_file_as_the_cli_writes_it_runs_the_program(tmp_path: Path) -> None:
    # What `pulumi config set local.ports.grafana 3001` and
    # `pulumi config set --path alerting.thresholds.costPerOperationUsd 0.02` leave behind.
    text = """\
config:
  llm-o11y:local.ports.grafana: "3001"
  llm-o11y:local.bindAddress: 127.0.0.1
  llm-o11y:alerting:
    thresholds:
      costPerOperationUsd: "0.02"
      noTrafficMinutes: 30
"""
    config, secret_keys = stack_config(yaml.safe_load(text))
    plan = run_program(config, secret_keys, stack="local")
    assert plan.outputs["grafanaUrl"] == "http://127.0.0.1:3001"
    rules = plan.of_type("grafana:alerting/ruleGroup:RuleGroup")
    assert "0.02" in json.dumps([r.inputs for r in rules])
