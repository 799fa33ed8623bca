"""Bad stack settings fail before any resource is declared, naming the key and what is allowed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from components.settings import SettingsError
from tests.support import program
from tools import synth
from vocabulary.pricing import load_pricing

MALFORMED: list[tuple[str, dict[str, Any], dict[str, str], str]] = [
    (
        "unknown top-level key",
        {"targt": "local"},
        {},
        "llm-o11y:targt: unknown setting; allowed here: alerting, cloud",
    ),
    (
        "unknown nested key",
        {"local": {"port": {"grafana": 3000}}},
        {},
        "llm-o11y:local.port: unknown setting; allowed here: bindAddress",
    ),
    (
        "wrong type",
        {"local": {"ports": {"grafana": "three thousand"}}},
        {},
        "llm-o11y:local.ports.grafana: Input should be a valid integer",
    ),
    (
        "port out of range",
        {"local": {"ports": {"otlpGrpc": 70000}}},
        {},
        "llm-o11y:local.ports.otlpGrpc: Input should be less than or equal to 65535",
    ),
    (
        "port zero",
        {"local": {"ports": {"loki": 0}}},
        {},
        "llm-o11y:local.ports.loki: Input should be greater than or equal to 1",
    ),
    (
        "two services on one port",
        {"local": {"ports": {"grafana": 9090}}},
        {},
        "llm-o11y:local.ports: prometheus and grafana both use port 9090",
    ),
    (
        "bind address not an IP",
        {"local": {"bindAddress": "localhost"}},
        {},
        "llm-o11y:local.bindAddress: must be an IP address",
    ),
    (
        "retention zero",
        {"local": {"retentionDays": {"loki": 0}}},
        {},
        "llm-o11y:local.retentionDays.loki: Input should be greater than or equal to 1",
    ),
    (
        "retention as text",
        {"local": {"retentionDays": {"prometheus": "15d"}}},
        {},
        "llm-o11y:local.retentionDays.prometheus: Input should be a valid integer",
    ),
    (
        "unknown target",
        {"target": "aws"},
        {},
        "llm-o11y:target: Input should be 'local' or 'cloud'",
    ),
    (
        "relative JSONL folder",
        {"local": {"jsonlLogDir": "logs"}},
        {},
        "llm-o11y:local.jsonlLogDir: must be an absolute path",
    ),
    (
        "missing JSONL folder",
        {"local": {"jsonlLogDir": "/nonexistent/llm-logs"}},
        {},
        "llm-o11y:local.jsonlLogDir: must be an existing directory",
    ),
    (
        "weak admin password",
        {},
        {"grafanaAdminPassword": "admin"},
        "llm-o11y:grafanaAdminPassword: must be at least 12 characters",
    ),
    (
        "cloud without its secret token",
        {
            "target": "cloud",
            "cloud": {"organization": "acme", "create": {"slug": "acmellm", "region": "us"}},
        },
        {},
        "llm-o11y:cloudAccessPolicyToken",
    ),
]


@pytest.mark.parametrize(
    ("settings", "secrets", "expected"),
    [pytest.param(s, sec, e, id=case) for case, s, sec, e in MALFORMED],
)
def test_malformed_settings_fail_naming_the_key(
    settings: dict[str, Any], secrets: dict[str, str], expected: str
) -> None:
    assert expected in program.rejection(settings, secrets)


def test_a_secret_set_in_plain_text_is_refused() -> None:
    config = {"llm-o11y:grafanaAdminPassword": "a-long-enough-password"}
    with pytest.raises(SettingsError, match=r"grafanaAdminPassword: must be stored as a secret"):
        synth.run_program(config, secret_keys=[], stack="test")


def test_defaults_are_safe() -> None:
    from components.settings import parse_settings

    settings = parse_settings({}, set())
    assert settings.target == "local"
    assert str(settings.local.bind_address) == "127.0.0.1"
    assert settings.grafana_admin_password is None


@pytest.mark.parametrize(
    "region",
    ["us", "us-azure", "eu", "au", "prod-us-east-0", "prod-ap-southeast-1", "prod-gb-south-0",
     "prod-sa-east-0", "prod-eu-west-2", "prod-us-central-0"],
)  # fmt: skip
def test_grafana_cloud_regions_are_accepted(region: str) -> None:
    from components.settings import parse_settings

    cloud = {"organization": "acme", "create": {"slug": "acmellm", "region": region}}
    token = {"cloudAccessPolicyToken": "glc_token"}
    settings = parse_settings({"target": "cloud", "cloud": cloud, **token}, set(token))
    assert settings.cloud is not None and settings.cloud.create is not None
    assert settings.cloud.create.region == region


def test_values_at_the_edge_of_what_is_allowed_are_accepted(tmp_path: Path) -> None:
    from components.settings import parse_settings

    webhook = {"url": "https://user:pass@hooks.example.com/x?token=abc"}
    alerting = {
        "thresholds": {"dailyBudgetUsd": 50, "monthlyBudgetUsd": 50},
        "receivers": [{"name": "pager", "webhook": webhook}],
    }
    settings = parse_settings(
        {
            "local": {"bindAddress": "::1", "jsonlLogDir": str(tmp_path)},
            "alerting": alerting,
        },
        {"alerting"},  # a `secure:` leaf makes the whole key secret
    )
    assert str(settings.local.bind_address) == "::1"
    assert settings.local.jsonl_log_dir == str(tmp_path)
    assert settings.alerting.thresholds.monthly_budget_usd == 50


@pytest.mark.parametrize(
    ("budgets", "message"),
    [
        (
            {"platform": {"dailyUsd": 40, "monthlyUsd": 10}},
            "llm-o11y:alerting.thresholds.teamBudgets.platform: monthlyUsd (10) must not be "
            "below dailyUsd (40)",
        ),
        (
            {"plat form": {"dailyUsd": 40, "monthlyUsd": 100}},
            "llm-o11y:alerting.thresholds.teamBudgets.plat form.[key]: must be letters, digits",
        ),
        (
            {"platform": {"dailyUsd": 40}},
            "llm-o11y:alerting.thresholds.teamBudgets.platform.monthlyUsd",
        ),
        (
            {"platform": {"dailyUsd": 0, "monthlyUsd": 100}},
            "llm-o11y:alerting.thresholds.teamBudgets.platform.dailyUsd",
        ),
    ],
)
def test_team_budgets_are_checked_naming_the_team(budgets: dict[str, Any], message: str) -> None:
    from components.settings import parse_settings

    with pytest.raises(SettingsError, match=re.escape(message)):
        parse_settings({"alerting": {"thresholds": {"teamBudgets": budgets}}}, set())


def test_team_budgets_declare_one_rule_per_period_naming_each_team() -> None:
    from alerts import alert_rules
    from components.settings import parse_settings

    budgets = {
        "platform": {"dailyUsd": 40, "monthlyUsd": 800},
        "payments": {"dailyUsd": 20, "monthlyUsd": 400},
    }
    settings = parse_settings({"alerting": {"thresholds": {"teamBudgets": budgets}}}, set())
    rules = {r.uid: r for r in alert_rules(settings.alerting.thresholds, load_pricing())}
    daily, monthly = rules["llm-o11y-team-daily-spend"], rules["llm-o11y-team-monthly-spend"]
    assert 'label_replace(vector(40), "spending_team", "platform", "", "")' in daily.query
    assert 'label_replace(vector(400), "spending_team", "payments", "", "")' in monthly.query
    assert "{{ $labels.spending_team }}" in daily.description
    assert "llm-o11y-team-daily-spend" not in {
        r.uid for r in alert_rules(parse_settings({}, set()).alerting.thresholds, load_pricing())
    }
