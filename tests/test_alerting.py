"""Alerting under mocks: rule groups in a fixed-UID folder with thresholds from stack config,
query -> reduce -> threshold, explicit states, links that cannot drift, secret contact points, one
notification policy, and malformed alerting config refused before anything is declared."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from alerts import alert_rules
from alerts.base import markdown_anchor
from components.alerting import (
    ALERT_FOLDER,
    AlertLinkError,
    grafana_data,
    link_annotations,
    panel_id,
    rule_data,
)
from components.settings import AlertThresholds
from dashboards import render_all
from tests.support import program
from tools import synth
from tools.synth import Plan, contains_secret
from vocabulary.pricing import load_pricing
from vocabulary.recording import GROUP as RECORDING_GROUP
from vocabulary.recording import recording_rules

RULE_GROUP = "grafana:alerting/ruleGroup:RuleGroup"
CONTACT_POINT = "grafana:alerting/contactPoint:ContactPoint"
POLICY = "grafana:alerting/notificationPolicy:NotificationPolicy"
FOLDER = "grafana:oss/folder:Folder"
RUNBOOKS = Path(__file__).resolve().parent.parent / "docs" / "runbooks.md"
DEFAULT_RULES = alert_rules(AlertThresholds(), load_pricing())

SLACK_URL = "https://hooks.slack.com/services/T000/B000/planted-slack-secret"
WEBHOOK_TOKEN = "planted-webhook-bearer-token"
WEBHOOK_PASSWORD = "planted-webhook-basic-password"
RECEIVERS = [
    {"name": "oncall", "severities": ["critical"], "email": {"addresses": ["oncall@example.com"]}},
    {"name": "team-slack", "slack": {"url": SLACK_URL, "recipient": "#llm-alerts"}},
    {
        "name": "pager",
        "severities": ["critical", "warning", "info"],
        "webhook": {
            "url": "https://pager.example.com/hook",
            "authorizationCredentials": WEBHOOK_TOKEN,
        },
    },
    {
        "name": "audit",
        "severities": ["warning"],
        "webhook": {
            "url": "https://audit.example.com/hook",
            "basicAuthUser": "grafana",
            "basicAuthPassword": WEBHOOK_PASSWORD,
        },
    },
]
NOTIFICATIONS = {"groupInterval": "10m", "repeatInterval": {"critical": "30m", "warning": "6h"}}


@pytest.fixture(scope="module")
def local_plan() -> Plan:
    return synth.synth("local")


@pytest.fixture(scope="module")
def notified_plan() -> Plan:
    """A stack with receivers; the whole alerting key is secret, as `secure:` leaves make it."""
    alerting = {"receivers": RECEIVERS, "notifications": NOTIFICATIONS}
    return program.run({}, secrets={"alerting": json.dumps(alerting)})


def rules_of(plan: Plan) -> dict[str, dict[str, Any]]:
    """Alert rule title -> the rule's inputs, across every alert rule group."""
    return {
        rule["name"]: rule
        for g in plan.of_type(RULE_GROUP)
        if g.inputs["name"] != RECORDING_GROUP
        for rule in g.inputs["rules"]
    }


def stage(rule: dict[str, Any], ref_id: str) -> dict[str, Any]:
    entry = next(d for d in rule["datas"] if d["refId"] == ref_id)
    return {**entry, "model": json.loads(entry["model"])}


# Rules in the folder


def test_rule_groups_live_in_the_fixed_uid_folder(local_plan: Plan) -> None:
    folder = local_plan.named("alerting-folder")
    assert folder.inputs == {"title": ALERT_FOLDER.title, "uid": "llm-o11y-alerts"}
    groups = local_plan.of_type(RULE_GROUP)
    assert sorted(g.inputs["name"] for g in groups) == [
        "LLM agents",
        "LLM cost",
        "LLM recorded series",
        "LLM reliability",
        "LLM traffic",
        "Telemetry pipeline",
    ]
    for declared in [folder, *groups]:
        assert declared.parent == "alerting"
        assert declared.provider == "local-grafana-provider"
    for group in groups:
        assert group.inputs["folderUid"] == "llm-o11y-alerts"
        assert "alerting-folder" in group.options["dependsOn"]


def test_rules_wait_for_the_datasources_they_query(local_plan: Plan) -> None:
    waits_for = local_plan.named("alerting-folder").options["dependsOn"]
    assert {"datasources-prometheus", "datasources-loki"} <= set(waits_for)


def test_every_rule_is_declared_once_with_a_fixed_uid(local_plan: Plan) -> None:
    rules = rules_of(local_plan)
    assert sorted(rules) == sorted(r.title for r in DEFAULT_RULES)
    assert {rules[r.title]["uid"] for r in DEFAULT_RULES} == {r.uid for r in DEFAULT_RULES}
    assert all(len(r.uid) <= 40 and re.fullmatch(r"[a-z0-9-]+", r.uid) for r in DEFAULT_RULES)


def test_each_rule_is_query_reduce_threshold_with_the_comparison_last(local_plan: Plan) -> None:
    rules = rules_of(local_plan)
    for expected in DEFAULT_RULES:
        rule = rules[expected.title]
        assert rule["condition"] == "C"
        query, reduce, threshold = (stage(rule, ref) for ref in "ABC")
        assert query["datasourceUid"] == expected.datasource  # the fixed datasource UIDs
        assert query["model"]["expr"] == expected.query
        assert query["relativeTimeRange"] == {"from": expected.window_seconds, "to": 0}
        assert reduce["datasourceUid"] == threshold["datasourceUid"] == "__expr__"
        assert reduce["model"]["type"] == "reduce" and reduce["model"]["expression"] == "A"
        assert reduce["model"]["reducer"] == "last"
        assert threshold["model"]["type"] == "threshold"
        assert threshold["model"]["expression"] == "B"
        [condition] = threshold["model"]["conditions"]
        assert condition["evaluator"] == {
            "type": expected.threshold.kind,
            "params": list(expected.threshold.params),
        }


def test_queries_hold_no_top_level_comparison() -> None:
    # A comparison in the query would turn "all is well" into No Data.
    for rule in DEFAULT_RULES:
        assert not re.search(r"(>|<|==|!=)\s*[0-9.]+\s*$", rule.query), rule.title


def test_default_thresholds_are_the_seeds(local_plan: Plan) -> None:
    params = {
        title: stage(rule, "C")["model"]["conditions"][0]["evaluator"]["params"]
        for title, rule in rules_of(local_plan).items()
    }
    assert params["LLM spend over daily budget"] == [50]
    assert params["LLM spend rate over hourly limit"] == [10]
    assert params["LLM cost per operation over limit"] == [0.01]
    assert params["LLM cost per operation over SLO"] == [0.003, 0.01]
    assert params["LLM error rate critical"] == [10]
    assert params["LLM error rate elevated"] == [5, 10]
    assert params["LLM P95 latency over limit"] == [30]
    assert params["LLM operation P95 latency over limit"] == [3000]
    assert params["LLM operation P95 latency over SLO"] == [2000, 3000]
    assert params["LLM app user over hourly request limit"] == [50]
    assert params["Claude Code session running away with cost"] == [10]
    assert params["Claude Code subagent running away with cost"] == [5]
    assert params["Claude Code refusals burst"] == [5]
    assert params["Claude Code exhausted retries burst"] == [3]


def test_a_threshold_changed_in_config_reaches_the_rule_model() -> None:
    plan = program.run({"alerting": {"thresholds": {"dailyBudgetUsd": 120, "anomalyFactor": 5}}})
    rules = rules_of(plan)
    daily = rules["LLM spend over daily budget"]
    assert stage(daily, "C")["model"]["conditions"][0]["evaluator"]["params"] == [120]
    assert "the daily budget is $120.00" in daily["annotations"]["description"]
    anomaly = stage(rules["LLM spend anomaly"], "C")
    assert anomaly["model"]["conditions"][0]["evaluator"]["params"] == [5]


def test_the_anomaly_floor_and_the_no_traffic_window_reach_the_query() -> None:
    thresholds = {"anomalyBaselineFloorUsd": 2.5, "noTrafficMinutes": 90}
    rules = rules_of(program.run({"alerting": {"thresholds": thresholds}}))
    assert ", 2.5)" in stage(rules["LLM spend anomaly"], "A")["model"]["expr"]
    no_traffic = stage(rules["No LLM traffic"], "A")
    assert "[90m]" in no_traffic["model"]["expr"]
    assert no_traffic["relativeTimeRange"]["from"] == (90 + 1440) * 60


def test_no_data_and_error_states_are_explicit_and_explained(local_plan: Plan) -> None:
    rules = rules_of(local_plan)
    for expected in DEFAULT_RULES:
        rule = rules[expected.title]
        assert rule["noDataState"] in ("OK", "NoData", "Alerting", "KeepLast")
        assert rule["execErrState"] in ("OK", "Error", "Alerting", "KeepLast")
        assert rule["noDataState"] == expected.states.no_data
        assert rule["execErrState"] == expected.states.exec_err
        for reason in (expected.states.no_data_reason, expected.states.exec_err_reason):
            assert reason and "\n" not in reason
    # Silence and a broken datasource must not look alike.
    assert rules["No LLM traffic"]["execErrState"] == "Error"


def test_labels_and_annotations(local_plan: Plan) -> None:
    for title, rule in rules_of(local_plan).items():
        assert rule["labels"]["severity"] in ("critical", "warning", "info")
        assert rule["labels"]["team"] == "llm-platform"
        notes = rule["annotations"]
        assert "{{" not in notes["summary"], title
        assert "$values.B.Value" in notes["description"] or "$labels" in notes["description"]
        assert notes["runbook_url"] == f"docs/runbooks.md#{markdown_anchor(title)}"


def test_team_and_runbook_base_come_from_config() -> None:
    base = "https://git.example.com/llm-o11y/blob/main/docs/runbooks.md"
    plan = program.run({"alerting": {"team": "ml-platform", "runbookBaseUrl": base}})
    rule = rules_of(plan)["No LLM traffic"]
    assert rule["labels"]["team"] == "ml-platform"
    assert rule["annotations"]["runbook_url"] == f"{base}#no-llm-traffic"


# Links to runbooks and panels


def test_every_rule_has_a_runbook_section() -> None:
    headings = re.findall(r"^## (.+)$", RUNBOOKS.read_text(encoding="utf-8"), re.MULTILINE)
    anchors = {markdown_anchor(heading) for heading in headings}
    missing = [r.title for r in DEFAULT_RULES if r.runbook_anchor not in anchors]
    assert missing == []


def test_the_runbooks_name_panels_that_exist() -> None:
    dashboards = {model["title"]: model for model in render_all(load_pricing()).values()}
    text = " ".join(RUNBOOKS.read_text(encoding="utf-8").split())
    bold = re.findall(r"\*\*(.+?)\*\*", text)
    references = [span.split(" > ", 1) for span in bold if " > " in span]
    assert len(references) > len(DEFAULT_RULES)
    for dashboard, panel in references:
        assert dashboard in dashboards, dashboard
        assert panel_id(dashboards[dashboard], panel) is not None, f"{dashboard} > {panel}"


def test_each_rule_links_its_panel_by_title_resolved_at_declaration(local_plan: Plan) -> None:
    dashboards = render_all(load_pricing())
    rules = rules_of(local_plan)
    for expected in DEFAULT_RULES:
        notes = rules[expected.title]["annotations"]
        uid = expected.panel.dashboard_uid
        assert notes["__dashboardUid__"] == uid, expected.title
        panel = next(
            p for p in _all_panels(dashboards[uid]) if p["id"] == int(notes["__panelId__"])
        )
        assert panel["title"] == expected.panel.panel_title


def _all_panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for panel in dashboard["panels"]:
        found += [panel, *panel.get("panels", [])]
    return found


def test_a_renamed_panel_fails_instead_of_linking_the_wrong_one() -> None:
    rule = DEFAULT_RULES[0]
    renamed = {rule.panel.dashboard_uid: {"panels": [{"id": 3, "title": "Renamed"}]}}
    with pytest.raises(AlertLinkError, match=re.escape(rule.panel.panel_title)):
        link_annotations(rule.panel, renamed, rule.title)


def test_a_dashboard_not_in_the_program_gets_a_plain_link() -> None:
    rule = DEFAULT_RULES[0]
    assert link_annotations(rule.panel, {}, rule.title) == {
        "dashboard_url": f"/d/{rule.panel.dashboard_uid}"
    }


# The universal query check sees what is deployed


def test_rule_data_is_what_the_rule_groups_hold(local_plan: Plan) -> None:
    entries = rule_data(load_pricing())
    assert {e["ruleTitle"] for e in entries} == {r.title for r in DEFAULT_RULES}
    for title, rule in rules_of(local_plan).items():
        declared = [{**d, "model": json.loads(d["model"])} for d in rule["datas"]]
        checked = [
            {k: v for k, v in e.items() if k != "ruleTitle"}
            for e in entries
            if e["ruleTitle"] == title
        ]
        assert checked == declared, title
    assert all(len(grafana_data(r)) == 3 for r in DEFAULT_RULES)


# Receivers, secrets and the one policy


def test_without_receivers_rules_deploy_and_the_outputs_say_nobody_is_told(
    local_plan: Plan,
) -> None:
    assert local_plan.of_type(CONTACT_POINT) == []
    assert local_plan.of_type(POLICY) == []
    assert len(rules_of(local_plan)) == len(DEFAULT_RULES)
    summary = local_plan.outputs["alertNotifications"]
    assert "no receivers configured" in summary and "notify nobody" in summary
    assert f"{len(DEFAULT_RULES)} alert rules" in summary


def test_contact_points_come_from_config(notified_plan: Plan) -> None:
    points = {p.inputs["name"]: p for p in notified_plan.of_type(CONTACT_POINT)}
    assert sorted(points) == ["audit", "oncall", "pager", "team-slack"]
    assert points["oncall"].inputs["emails"][0]["addresses"] == ["oncall@example.com"]
    assert points["team-slack"].inputs["slacks"][0]["recipient"] == "#llm-alerts"
    # The whole `alerting` key is secret here, and a secret URL stays secret.
    assert points["pager"].inputs["webhooks"][0]["url"] == "[secret]"
    assert points["pager"].inputs["webhooks"][0]["authorizationScheme"] == "Bearer"
    for point in points.values():
        assert point.parent == "alerting" and point.provider == "local-grafana-provider"


def test_contact_point_secrets_are_secret_in_the_plan_and_on_the_wire(
    notified_plan: Plan,
) -> None:
    text = notified_plan.as_json()
    for planted in (SLACK_URL, WEBHOOK_TOKEN, WEBHOOK_PASSWORD):
        assert planted not in text
    points = {p.inputs["name"]: p for p in notified_plan.of_type(CONTACT_POINT)}
    secret_fields = [
        ("team-slack", "slacks", "url"),
        ("pager", "webhooks", "authorizationCredentials"),
        ("audit", "webhooks", "basicAuthPassword"),
    ]
    for name, kind, field in secret_fields:
        assert points[name].inputs[kind][0][field] == "[secret]"
        assert contains_secret(points[name].raw_inputs[kind][0][field])
    assert points["audit"].inputs["webhooks"][0]["basicAuthUser"] == "grafana"


def test_one_policy_groups_and_routes_by_severity(notified_plan: Plan) -> None:
    [policy] = notified_plan.of_type(POLICY)
    inputs = policy.inputs
    assert inputs["groupBies"] == ["alertname", "severity"]
    assert inputs["contactPoint"] == "oncall"  # the fallback: the first receiver
    assert inputs["groupInterval"] == "10m" and inputs["groupWait"] == "30s"
    assert inputs["repeatInterval"] == "24h"
    routes = [
        (p["matchers"][0]["value"], p["contactPoint"], p["repeatInterval"], p["continue"])
        for p in inputs["policies"]
    ]
    assert routes == [
        ("critical", "oncall", "30m", True),
        ("critical", "team-slack", "30m", True),
        ("critical", "pager", "30m", True),
        ("warning", "team-slack", "6h", True),
        ("warning", "pager", "6h", True),
        ("warning", "audit", "6h", True),
        ("info", "pager", "24h", True),
    ]
    for route in inputs["policies"]:
        assert route["matchers"][0]["label"] == "severity" and route["matchers"][0]["match"] == "="
    summary = notified_plan.outputs["alertNotifications"]
    assert "critical -> oncall, team-slack, pager" in summary
    assert "anything else -> oncall" in summary


def test_secure_leaves_in_a_stack_file_stay_secret() -> None:
    document = {
        "config": {
            "llm-o11y:alerting": {
                "thresholds": {"dailyBudgetUsd": 80},
                "receivers": [{"name": "team-slack", "slack": {"url": {"secure": "v1:abc"}}}],
            }
        }
    }
    config, secret_keys = synth.stack_config(document)
    plan = synth.run_program(config, secret_keys, stack="test")
    [point] = plan.of_type(CONTACT_POINT)
    assert point.inputs["slacks"][0]["url"] == "[secret]"
    assert synth.SECRET_PLACEHOLDER not in plan.as_json()
    daily = rules_of(plan)["LLM spend over daily budget"]
    assert stage(daily, "C")["model"]["conditions"][0]["evaluator"]["params"] == [80]


def test_prod_declares_the_same_rules_on_the_stack_provider() -> None:
    plan = synth.synth("prod")
    assert sorted(rules_of(plan)) == sorted(r.title for r in DEFAULT_RULES)
    providers = {g.provider for g in plan.of_type(RULE_GROUP)}
    assert len(providers) == 1 and "local" not in next(iter(providers))


def test_recording_rules_are_grafana_managed_and_write_where_dashboards_read(
    local_plan: Plan,
) -> None:
    (group,) = [g for g in local_plan.of_type(RULE_GROUP) if g.inputs["name"] == RECORDING_GROUP]
    assert group.inputs["intervalSeconds"] == 300
    expected = {r.record: r.expr for r in recording_rules(load_pricing())}
    declared = {}
    for rule in group.inputs["rules"]:
        assert rule["record"]["from"] == "A"
        assert rule["record"]["targetDatasourceUid"] == "prometheus"
        (query,) = rule["datas"]
        declared[rule["record"]["metric"]] = json.loads(query["model"])["expr"]
        assert len(rule["uid"]) <= 40
    assert declared == expected


# Malformed alerting config

MALFORMED: list[tuple[str, dict[str, Any], str]] = [
    (
        "negative budget",
        {"thresholds": {"dailyBudgetUsd": -5}},
        "llm-o11y:alerting.thresholds.dailyBudgetUsd: Input should be greater than 0",
    ),
    (
        "unknown severity",
        {"receivers": [{"name": "a", "severities": ["page"], "email": {"addresses": ["a@b.io"]}}]},
        "llm-o11y:alerting.receivers[0].severities[0]: Input should be 'critical', 'warning' or",
    ),
    (
        "slack without a URL",
        {"receivers": [{"name": "a", "slack": {"recipient": "#x"}}]},
        "llm-o11y:alerting.receivers[0].slack.url: Field required",
    ),
    (
        "slack URL in plain text",
        {"receivers": [{"name": "a", "slack": {"url": "https://hooks.slack.com/x"}}]},
        "llm-o11y:alerting.receivers[0].slack.url: must be stored as a secret",
    ),
    (
        "webhook basic auth without a password",
        {"receivers": [{"name": "a", "webhook": {"url": "https://x.io", "basicAuthUser": "u"}}]},
        "llm-o11y:alerting.receivers[0].webhook: set both basicAuthUser and basicAuthPassword",
    ),
    (
        "receiver of two kinds",
        {
            "receivers": [
                {
                    "name": "a",
                    "email": {"addresses": ["a@b.io"]},
                    "webhook": {"url": "https://x.io"},
                }
            ]
        },
        "llm-o11y:alerting.receivers[0]: set exactly one of email, slack or webhook",
    ),
    (
        "duplicate receiver names",
        {
            "receivers": [
                {"name": "a", "email": {"addresses": ["a@b.io"]}},
                {"name": "a", "email": {"addresses": ["c@d.io"]}},
            ]
        },
        "llm-o11y:alerting: receiver names must be unique: a",
    ),
    (
        "receiver names that differ only in case and punctuation",
        {
            "receivers": [
                {"name": "Team Slack", "email": {"addresses": ["a@b.io"]}},
                {"name": "team-slack", "email": {"addresses": ["c@d.io"]}},
            ]
        },
        "llm-o11y:alerting: receiver names must be unique: Team Slack, team-slack",
    ),
    (
        "bad email address",
        {"receivers": [{"name": "a", "email": {"addresses": ["not-an-address"]}}]},
        "llm-o11y:alerting.receivers[0].email.addresses[0]: must be an email address",
    ),
    (
        "warning rate above the critical rate",
        {"thresholds": {"errorRateWarningPercent": 20}},
        "llm-o11y:alerting.thresholds: errorRateWarningPercent (20) must be below "
        "errorRateCriticalPercent (10)",
    ),
    (
        "error rate over 100 %",
        {"thresholds": {"errorRateCriticalPercent": 150}},
        "llm-o11y:alerting.thresholds.errorRateCriticalPercent: Input should be less than or equal",
    ),
    (
        "not a duration",
        {"notifications": {"groupWait": "half a minute"}},
        "llm-o11y:alerting.notifications.groupWait: must be a duration",
    ),
    (
        "repeat shorter than the group interval",
        {"notifications": {"repeatInterval": {"critical": "1m"}}},
        "llm-o11y:alerting.notifications: repeatInterval.critical (1m) must not be shorter",
    ),
    (
        "unknown threshold",
        {"thresholds": {"dailyBudget": 10}},
        "llm-o11y:alerting.thresholds.dailyBudget: unknown setting; allowed here: anomalyBaseline",
    ),
    (
        "budget as text",
        {"thresholds": {"dailyBudgetUsd": "$50"}},
        "llm-o11y:alerting.thresholds.dailyBudgetUsd: Input should be a valid number",
    ),
]


@pytest.mark.parametrize(
    ("alerting", "expected"), [pytest.param(a, e, id=case) for case, a, e in MALFORMED]
)
def test_malformed_alerting_config_fails_before_any_resource(
    alerting: dict[str, Any], expected: str
) -> None:
    assert expected in program.rejection({"alerting": alerting})
