"""The semantic diff (tools/diff): each kind of change over a pair of plans gives its line."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tools.diff.cli import main
from tools.diff.model import StackPlan
from tools.diff.report import MARKER, compare, render
from tools.diff.sources import extract, load_plans, plan_roots, read_cached, resolve, write_cached
from tools.diff.values import excerpt_pair

REPO_ROOT = Path(__file__).resolve().parent.parent
SNAPSHOTS = REPO_ROOT / "tests" / "snapshots"

CONTAINER = "docker:index/container:Container"
VOLUME = "docker:index/volume:Volume"
FOLDER = "grafana:oss/folder:Folder"
DATASOURCE = "grafana:oss/dataSource:DataSource"
DASHBOARD = "grafana:oss/dashboard:Dashboard"
RULE_GROUP = "grafana:alerting/ruleGroup:RuleGroup"
CONTACT_POINT = "grafana:alerting/contactPoint:ContactPoint"
POLICY = "grafana:alerting/notificationPolicy:NotificationPolicy"


def resource(
    type_token: str,
    name: str,
    inputs: dict[str, Any],
    *,
    protect: bool = False,
    delete_before_replace: bool = False,
    parent: str | None = "stack",
    provider: str | None = "provider",
) -> dict[str, Any]:
    """A resource as tools.synth prints it."""
    return {
        "type": type_token,
        "name": name,
        "parent": parent,
        "provider": provider,
        "inputs": inputs,
        "options": {
            "protect": protect,
            "deleteBeforeReplace": delete_before_replace,
            "retainOnDelete": False,
            "dependsOn": [],
            "ignoreChanges": [],
            "additionalSecretOutputs": [],
        },
    }


def plan(*resources: dict[str, Any], config: dict[str, Any] | None = None) -> StackPlan:
    return StackPlan("local", list(resources), {}, config)


def diff(base: StackPlan, head: StackPlan) -> str:
    return render(compare({"local": base}, {"local": head}), "base", "head", ["local"])


def sections(text: str) -> dict[str, str]:
    """Markdown `### ` sections by heading, in order."""
    found = {}
    for chunk in text.split("\n### ")[1:]:
        heading, _, body = chunk.partition("\n")
        found[heading] = body
    return found


def destructive(text: str) -> str:
    parts = sections(text)
    assert next(iter(parts)).startswith("⚠️ Destructive"), "destructive changes come first"
    return next(iter(parts.values()))


def lines_with(text: str, needle: str) -> list[str]:
    return [line for line in text.splitlines() if needle in line]


# --- infrastructure -----------------------------------------------------------------------------

VOLUME_INPUTS = {"name": "llm-o11y-grafana-data"}
FOLDER_INPUTS = {"uid": "llm-o11y-alerts", "title": "LLM Alerts"}
DATASOURCE_INPUTS = {"uid": "loki", "name": "Loki", "type": "loki", "url": "http://loki:3100"}


def container(**changes: Any) -> dict[str, Any]:
    inputs = {
        "name": "llm-o11y-grafana",
        "image": "grafana/grafana:13.1.3@sha256:mock",
        "envs": ["GF_AUTH_ANONYMOUS_ENABLED=false"],
        "restart": "unless-stopped",
        "ports": [{"external": 3000, "internal": 3000, "ip": "127.0.0.1"}],
    }
    return resource(CONTAINER, "local-grafana", {**inputs, **changes}, delete_before_replace=True)


def rule_group(rules: list[dict[str, Any]], folder: str = "llm-o11y-alerts") -> dict[str, Any]:
    inputs = {"folderUid": folder, "intervalSeconds": 300, "name": "LLM cost", "rules": rules}
    return resource(RULE_GROUP, "alerting-llm-cost", inputs)


def test_identical_plans_print_no_change() -> None:
    same = plan(container(), resource(VOLUME, "data", VOLUME_INPUTS, protect=True))
    text = diff(same, copy.deepcopy(same))
    assert text.startswith(MARKER)
    assert "no change" in text.lower()
    assert "###" not in text


def test_the_committed_snapshots_compared_with_themselves_print_no_change() -> None:
    side = load_plans(SNAPSHOTS)
    assert set(side) >= {"local", "prod"}
    text = render(compare(side, load_plans(SNAPSHOTS)), "a", "b", sorted(side))
    assert "no change" in text.lower()


def test_a_folder_uid_change_is_listed_first_as_destructive() -> None:
    rules = [alert_rule()]
    base = plan(resource(FOLDER, "alerting-folder", FOLDER_INPUTS), rule_group(rules), container())
    head = plan(
        resource(FOLDER, "alerting-folder", {**FOLDER_INPUTS, "uid": "alerts"}),
        rule_group(rules),
        container(restart="always"),
    )
    text = diff(base, head)
    first = destructive(text)
    assert "Folder `alerting-folder` is **replaced** (a change to `uid` forces it)" in first
    assert "Grafana deletes folder `llm-o11y-alerts`" in first
    # The rule group still names the old folder in the new plan: it goes with the folder.
    assert "1 alert rule and 0 dashboards of the new plan" in first
    # The in-place container change is listed, but not as destructive.
    assert "Container `local-grafana` is updated in place" in sections(text)["Infrastructure"]
    assert "restart" not in first


def test_a_datasource_uid_change_is_destructive_and_counts_what_still_refers_to_it() -> None:
    panel_ref = {"panels": [{"title": "Logs", "datasource": {"type": "loki", "uid": "loki"}}]}
    board = resource(DASHBOARD, "board", {"configJson": json.dumps({"uid": "b", **panel_ref})})
    base = plan(resource(DATASOURCE, "datasources-loki", DATASOURCE_INPUTS), board)
    head = plan(
        resource(DATASOURCE, "datasources-loki", {**DATASOURCE_INPUTS, "uid": "logs"}), board
    )
    first = destructive(diff(base, head))
    assert "DataSource `datasources-loki` is **replaced**" in first
    assert "uid `loki` → `logs`" in first
    assert "1 dashboard and 0 alert rules here" in first
    assert "it clashes with its name `Loki`" in first
    renamed = {**DATASOURCE_INPUTS, "uid": "logs", "name": "Logs"}
    assert "clashes" not in diff(base, plan(resource(DATASOURCE, "datasources-loki", renamed)))


def test_a_protected_volume_replacement_is_destructive_and_says_pulumi_refuses() -> None:
    base = plan(resource(VOLUME, "local-grafana-data", VOLUME_INPUTS, protect=True))
    head = plan(resource(VOLUME, "local-grafana-data", {"name": "grafana"}, protect=True))
    first = destructive(diff(base, head))
    assert "Volume `local-grafana-data` is **replaced**" in first
    assert "protected: `pulumi up` refuses to replace it" in first
    assert "Docker deletes volume `llm-o11y-grafana-data` and its data" in first


def test_a_folder_deletion_is_destructive_and_names_what_goes_with_it() -> None:
    rules = [alert_rule(), alert_rule(uid="r2", name="Other")]
    base = plan(resource(FOLDER, "alerting-folder", FOLDER_INPUTS), rule_group(rules))
    head = plan(rule_group(rules))
    first = destructive(diff(base, head))
    assert "Folder `alerting-folder` is **deleted**" in first
    assert "2 alert rules and 0 dashboards of the new plan" in first


def test_an_unprotected_volume_deletion_loses_its_data() -> None:
    text = diff(plan(resource(VOLUME, "probe", {"name": "llm-o11y-probe"})), plan())
    assert "Volume `probe` is **deleted**: Docker deletes volume `llm-o11y-probe`" in destructive(
        text
    )


def test_a_removed_protected_resource_is_destructive() -> None:
    text = diff(plan(resource("docker:index/network:Network", "n", {}, protect=True)), plan())
    assert "refuses to delete it until `pulumi state unprotect`" in destructive(text)


def test_a_container_field_change_restarts_it_and_is_disruptive_not_destructive() -> None:
    text = diff(plan(container()), plan(container(envs=["GF_AUTH_ANONYMOUS_ENABLED=true"])))
    assert "Destructive" not in text
    [line] = lines_with(text, "Container `local-grafana`")
    assert line.startswith("- ↻ ")
    assert "is **replaced** (a change to `envs` forces it)" in line
    assert "down until the new one is healthy" in line
    assert "`envs`: + `GF_AUTH_ANONYMOUS_ENABLED=true`, - `GF_AUTH_ANONYMOUS_ENABLED=false`" in text


def test_a_cloud_stack_region_change_is_destructive_and_names_what_takes_its_outputs() -> None:
    stack_inputs = {"slug": "examplellmo11y", "regionSlug": "prod-us-east-0", "name": "x"}
    token = resource("grafana:cloud/stackServiceAccount:StackServiceAccount", "sa", {"name": "a"})
    token["options"]["dependsOn"] = ["cloud-stack"]
    base = plan(resource("grafana:cloud/stack:Stack", "cloud-stack", stack_inputs), token)
    moved = {**stack_inputs, "regionSlug": "prod-eu-west-2"}
    head = plan(resource("grafana:cloud/stack:Stack", "cloud-stack", moved), token)
    text = destructive(diff(base, head))
    assert "Grafana Cloud deletes stack `examplellmo11y` with all its data" in text
    assert "depends on it, so sees its new outputs: `sa`" in text


def test_a_rotated_token_is_disruptive() -> None:
    token = "grafana:cloud/accessPolicyToken:AccessPolicyToken"
    base = plan(resource(token, "read-token", {"name": "read", "region": "us"}))
    head = plan(resource(token, "read-token", {"name": "read", "region": "eu"}))
    [line] = lines_with(diff(base, head), "AccessPolicyToken `read-token`")
    assert line.startswith("- ↻ ") and "clients still using it fail" in line
    renamed = plan(
        resource(token, "read-token", {"name": "read", "region": "us", "displayName": "R"})
    )
    assert "is updated in place" in diff(base, renamed)


def test_a_container_without_delete_before_replace_warns_of_the_name_collision() -> None:
    base, head = container(), container(image="grafana/grafana:13.2.0@sha256:mock")
    for side in (base, head):
        side["options"]["deleteBeforeReplace"] = False
    assert "a fixed name or host port collides" in diff(plan(base), plan(head))


def test_an_unknown_type_says_replacement_is_not_known() -> None:
    token = "example:index/widget:Widget"
    text = diff(plan(resource(token, "w", {"size": 1})), plan(resource(token, "w", {"size": 2})))
    assert "whether that replaces it is not known for `example:index/widget:Widget`" in text
    assert "`size`: `1` → `2`" in text


def test_a_logical_rename_is_a_replacement_unless_aliased() -> None:
    base = plan(resource(VOLUME, "old-name", VOLUME_INPUTS))
    head = plan(resource(VOLUME, "new-name", VOLUME_INPUTS))
    first = destructive(diff(base, head))
    assert "Volume `new-name` is **replaced**: its logical name changes from `old-name`" in first
    assert "unless the code sets an alias" in first


def test_a_parent_change_changes_the_urn() -> None:
    moved = resource(VOLUME, "data", VOLUME_INPUTS, parent="other")
    text = diff(plan(resource(VOLUME, "data", VOLUME_INPUTS)), plan(moved))
    assert "its parent changes (`stack` → `other`), so its URN changes" in destructive(text)


def test_losing_protection_and_adding_resources_are_listed() -> None:
    base = plan(resource(VOLUME, "data", VOLUME_INPUTS, protect=True))
    head = plan(resource(VOLUME, "data", VOLUME_INPUTS), resource(VOLUME, "more", {"name": "m"}))
    infra = sections(diff(base, head))["Infrastructure"]
    assert "Volume `data` **loses its protection**" in infra
    assert "1 resource added" in infra and "Volume: `more`" in infra


def test_stack_outputs_show_secrets_only_as_secret() -> None:
    base = StackPlan("local", [], {"url": "http://a", "password": "[secret]"})
    head = StackPlan("local", [], {"url": "http://b"})
    text = diff(base, head)
    assert "`url`: `http://a` → `http://b`" in text
    assert "`password`: removed (secret)" in text


# --- dashboards ---------------------------------------------------------------------------------


def panel(
    title: str,
    expr: str,
    *,
    y: int = 0,
    x: int = 0,
    unit: str = "currencyUSD",
    steps: list[dict[str, Any]] | None = None,
    description: str = "What it shows.",
) -> dict[str, Any]:
    return {
        "title": title,
        "type": "timeseries",
        "description": description,
        "gridPos": {"h": 8, "w": 12, "x": x, "y": y},
        "targets": [{"refId": "A", "expr": expr, "legendFormat": "{{model}}"}],
        "fieldConfig": {
            "defaults": {
                "unit": unit,
                "thresholds": {"mode": "absolute", "steps": steps or [{"color": "green"}]},
            }
        },
    }


def board(*panels: dict[str, Any], title: str = "LLM Cost") -> dict[str, Any]:
    model = {"uid": "llm-cost", "title": title, "panels": list(panels), "time": {"from": "now-7d"}}
    return resource(DASHBOARD, "dashboards-llm-cost", {"configJson": json.dumps(model)})


ROW = {"type": "row", "title": "Spend", "gridPos": {"h": 1, "w": 24, "x": 0, "y": 0}}
COST = panel("Daily cost", "sum(increase(cost_total[1d]))", y=1)
TOKENS = panel("Tokens", "sum(rate(tokens_total[5m]))", y=1, x=12, unit="short")
LATENCY = panel("Latency", "histogram_quantile(0.95, rate(latency_bucket[5m]))", y=9)


def dashboard_text(base: list[dict[str, Any]], head: list[dict[str, Any]]) -> str:
    text = diff(plan(board(*base)), plan(board(*head)))
    return sections(text)["Dashboards"]


def test_panels_added_and_removed() -> None:
    text = dashboard_text([ROW, COST, TOKENS], [ROW, COST, LATENCY])
    assert "Dashboard `LLM Cost`: panel `Tokens` removed" in text
    assert "Dashboard `LLM Cost`: panel `Latency` added in row `Spend`" in text
    assert "histogram_quantile(0.95, rate(latency_bucket[5m]))" in text


def test_a_renamed_panel_is_matched_by_its_query() -> None:
    text = dashboard_text([ROW, COST], [ROW, {**COST, "title": "Cost per day"}])
    assert "panel `Cost per day`: renamed from `Daily cost`" in text
    assert "added" not in text and "removed" not in text


def test_a_moved_panel_is_reported_but_not_the_ones_an_insertion_pushes_down() -> None:
    swapped = [ROW, {**LATENCY, "gridPos": {**LATENCY["gridPos"], "y": 1}}, {**COST, "y": 9}]
    swapped[2]["gridPos"] = {**COST["gridPos"], "y": 9}
    text = dashboard_text([ROW, COST, LATENCY], swapped)
    assert len(lines_with(text, ": moved")) == 1
    inserted = [
        ROW,
        panel("New", "sum(new_total)", y=1),
        {**COST, "gridPos": {**COST["gridPos"], "y": 9}},
    ]
    assert "moved" not in dashboard_text([ROW, COST], inserted)


def test_a_panel_moved_to_another_row() -> None:
    other_row = {**ROW, "title": "Later", "gridPos": {**ROW["gridPos"], "y": 20}}
    moved = {**TOKENS, "gridPos": {**TOKENS["gridPos"], "y": 21}}
    text = dashboard_text([ROW, COST, TOKENS, other_row], [ROW, COST, other_row, moved])
    assert "panel `Tokens`: moved from row `Spend` to `Later`" in text


def test_a_renamed_row_is_one_line_not_a_move_of_each_panel() -> None:
    text = dashboard_text([ROW, COST, TOKENS], [{**ROW, "title": "Cost"}, COST, TOKENS])
    assert "Dashboard `LLM Cost`: row `Spend` renamed to `Cost`" in text
    assert "moved" not in text


def test_a_changed_query_unit_threshold_and_description_show_before_and_after() -> None:
    changed = panel(
        "Daily cost",
        "sum(increase(cost_total[1h]))",
        y=1,
        unit="short",
        steps=[{"color": "green"}, {"color": "red", "value": 80}],
        description="Cost per hour.",
    )
    text = dashboard_text([ROW, COST], [ROW, changed])
    [line] = lines_with(text, "panel `Daily cost`:")
    assert "query A" in line and "unit `currencyUSD` → `short`" in line
    assert "thresholds" in line and "description" in line
    assert "query A before: `sum(increase(cost_total[1d]))`" in text
    assert "query A after: `sum(increase(cost_total[1h]))`" in text
    assert "thresholds after: `green, red from 80`" in text
    assert "description before: `What it shows.`" in text


def test_a_long_query_is_cut_around_the_change() -> None:
    prefix = "sum by (model) (" * 8
    old, new = prefix + "rate(x[5m])" + ")" * 8, prefix + "rate(x[1h])" + ")" * 8
    before, after = excerpt_pair(old, new)
    assert before.startswith("…") and "[5m]" in before and len(before) < len(old)
    assert after.startswith("…") and "[1h]" in after


def test_other_panel_settings_are_named_by_path() -> None:
    changed = {**COST, "options": {"legend": {"displayMode": "table"}}}
    text = dashboard_text([ROW, COST], [ROW, changed])
    assert "panel `Daily cost`: other settings" in text
    assert "`options.legend.displayMode`: (unset) → `table`" in text


def test_dashboards_added_removed_and_dashboard_settings() -> None:
    base = plan(board(ROW, COST))
    head = plan(board(ROW, COST, title="LLM Spend"))
    assert "`title`: `LLM Cost` → `LLM Spend`" in sections(diff(base, head))["Dashboards"]
    assert "Dashboard `LLM Cost` removed" in diff(base, plan())
    assert "Dashboard `LLM Cost` added (1 panel, uid `llm-cost`)" in diff(plan(), base)


# --- alert rules --------------------------------------------------------------------------------


def alert_rule(
    *,
    uid: str = "daily-spend",
    name: str = "LLM spend over daily budget",
    expr: str = "sum(increase(cost_total[1d]))",
    seconds: int = 86400,
    op: str = "gt",
    params: tuple[float, ...] = (50.0,),
    for_: str = "5m",
    labels: dict[str, str] | None = None,
    no_data: str = "OK",
    exec_err: str = "KeepLast",
) -> dict[str, Any]:
    query = {"datasource": {"type": "prometheus", "uid": "prometheus"}, "expr": expr, "refId": "A"}
    reduce = {"expression": "A", "reducer": "last", "refId": "B", "type": "reduce"}
    check = {
        "conditions": [{"evaluator": {"params": list(params), "type": op}}],
        "expression": "B",
        "refId": "C",
        "type": "threshold",
    }
    return {
        "uid": uid,
        "name": name,
        "condition": "C",
        "for": for_,
        "labels": labels or {"severity": "warning", "team": "llm-platform"},
        "annotations": {"summary": "Spend is over budget."},
        "noDataState": no_data,
        "execErrState": exec_err,
        "isPaused": False,
        "datas": [
            {
                "refId": "A",
                "datasourceUid": "prometheus",
                "model": json.dumps(query),
                "relativeTimeRange": {"from": seconds, "to": 0},
            },
            {"refId": "B", "datasourceUid": "__expr__", "model": json.dumps(reduce)},
            {"refId": "C", "datasourceUid": "__expr__", "model": json.dumps(check)},
        ],
    }


def alert_text(before: dict[str, Any], after: dict[str, Any]) -> str:
    return sections(diff(plan(rule_group([before])), plan(rule_group([after]))))["Alert rules"]


def test_threshold_change() -> None:
    text = alert_text(alert_rule(), alert_rule(params=(60.0,)))
    assert "Rule `LLM spend over daily budget`: threshold `> 50` → `> 60`" in text
    ranged = alert_text(alert_rule(), alert_rule(op="within_range", params=(5.0, 10.0)))
    assert "threshold `> 50` → `within 5..10`" in ranged


def test_window_change_from_the_range_selector_and_the_query_range() -> None:
    text = alert_text(
        alert_rule(), alert_rule(expr="sum(increase(cost_total[2d]))", seconds=172800)
    )
    assert "window `range [1d]; queries the last 1d` → `range [2d]; queries the last 2d`" in text
    assert "query A before: `sum(increase(cost_total[1d]))`" in text


def test_for_severity_labels_and_states() -> None:
    after = alert_rule(
        for_="15m",
        labels={"severity": "critical", "team": "payments"},
        no_data="Alerting",
        exec_err="Error",
    )
    text = alert_text(alert_rule(), after)
    assert "`for` `5m` → `15m`" in text
    assert "severity `warning` → `critical`" in text
    assert "`label team`: `llm-platform` → `payments`" in text
    assert "no-data state `OK` → `Alerting`" in text
    assert "error state `KeepLast` → `Error`" in text
    paused = alert_rule()
    paused["isPaused"] = True
    assert "`isPaused`: `false` → `true`" in alert_text(alert_rule(), paused)


def test_rules_added_removed_and_group_interval() -> None:
    base = plan(rule_group([alert_rule()]))
    head = plan(rule_group([alert_rule(uid="new", name="New rule", params=(3.0,))]))
    head.resources[0]["inputs"]["intervalSeconds"] = 60
    text = sections(diff(base, head))["Alert rules"]
    assert (
        "Rule `New rule` added to group `LLM cost` (threshold > 3, for 5m, severity warning)"
        in text
    )
    assert "Rule `LLM spend over daily budget` removed from group `LLM cost`" in text
    assert "Group `LLM cost` evaluates every 300 s → 60 s" in text


def test_a_rule_group_rename_replaces_it_and_resets_alert_state() -> None:
    renamed = rule_group([alert_rule()])
    renamed["inputs"]["name"] = "Spend"
    text = diff(plan(rule_group([alert_rule()])), plan(renamed))
    [line] = lines_with(text, "RuleGroup `alerting-llm-cost`")
    assert "is **replaced** (a change to `name` forces it)" in line
    assert "alert state and history start over" in line
    assert "its rules' titles are still taken in the folder" in line


def contact(name: str, **integrations: Any) -> dict[str, Any]:
    return resource(CONTACT_POINT, f"alerting-contact-{name}", {"name": name, **integrations})


def policy(*routes: tuple[str, str]) -> dict[str, Any]:
    children = [
        {"contactPoint": point, "matchers": [{"label": "severity", "match": "=", "value": sev}]}
        for sev, point in routes
    ]
    inputs = {"contactPoint": routes[0][1], "groupWait": "30s", "policies": children}
    return resource(POLICY, "alerting-notification-policy", inputs)


def test_receivers_and_routing() -> None:
    email = contact("oncall", emails=[{"addresses": ["oncall@example.com"]}])
    slack = contact("team-slack", slacks=[{"url": "[secret]", "recipient": "#llm"}])
    base = plan(email, policy(("critical", "oncall")))
    head = plan(email, slack, policy(("critical", "oncall"), ("warning", "team-slack")))
    head.resources[-1]["inputs"]["groupWait"] = "1m"
    text = sections(diff(base, head))["Alert rules"]
    assert "Receiver `team-slack` (slacks) added" in text
    assert "Who is notified changes" in text
    assert "+ `severity=warning → team-slack`" in text
    assert "`groupWait`: `30s` → `1m`" in text
    changed = contact("oncall", emails=[{"addresses": ["sre@example.com"]}])
    text = diff(plan(email), plan(changed))
    assert "Receiver `oncall` (emails) changes" in text
    assert "`sre@example.com`" in text


# --- settings -----------------------------------------------------------------------------------

CONFIG = {
    "llm-o11y:target": "local",
    "llm-o11y:alerting": {"thresholds": {"dailyBudgetUsd": 50}},
    "llm-o11y:grafanaAdminPassword": {"secure": "v1:aaaa"},
}


def test_settings_show_changed_keys_and_secrets_only_as_changed() -> None:
    head_config = copy.deepcopy(CONFIG)
    head_config["llm-o11y:alerting"]["thresholds"]["dailyBudgetUsd"] = 80
    head_config["llm-o11y:grafanaAdminPassword"] = {"secure": "v1:bbbb"}
    head_config["llm-o11y:cloudAccessPolicyToken"] = {"secure": "v1:cccc"}
    text = diff(plan(config=CONFIG), plan(config=head_config))
    settings = sections(text)["Settings"]
    assert "`llm-o11y:alerting.thresholds.dailyBudgetUsd`: `50` → `80`" in settings
    assert "`llm-o11y:grafanaAdminPassword`: changed (secret)" in settings
    assert "`llm-o11y:cloudAccessPolicyToken`: set (secret)" in settings
    assert "v1:" not in text


def test_settings_are_reported_per_stack() -> None:
    changed = copy.deepcopy(CONFIG)
    changed["llm-o11y:target"] = "cloud"
    base = {"local": StackPlan("local", config=CONFIG), "prod": StackPlan("prod", config=CONFIG)}
    head = {"local": StackPlan("local", config=CONFIG), "prod": StackPlan("prod", config=changed)}
    text = render(compare(base, head), "a", "b", ["local", "prod"])
    [line] = lines_with(text, "Stack file keys change")
    assert line.startswith("- **prod** · ")


def test_a_change_in_every_stack_is_one_line_naming_them() -> None:
    side = {s: StackPlan(s, [resource(VOLUME, "v", {"name": "a"})]) for s in ("local", "prod")}
    head = {s: StackPlan(s, [resource(VOLUME, "v", {"name": "b"})]) for s in ("local", "prod")}
    text = render(compare(side, head), "a", "b", ["local", "prod"])
    assert len(lines_with(text, "Volume `v` is **replaced**")) == 1
    assert "**local** **prod** · Volume `v`" in text


def test_a_failing_program_is_reported_first() -> None:
    failing = StackPlan("local", error="SettingsError: llm-o11y:local.ports.grafana: too big")
    text = render(compare({"local": plan()}, {"local": failing}), "a", "b", ["local"])
    assert next(iter(sections(text))) == "❌ Not compared: the program fails"
    assert "fails on the head side" in text
    assert "too big" in text


def test_a_long_report_is_cut_to_fit_a_comment() -> None:
    many = [resource(VOLUME, f"v{i}", {"name": f"n{i}"}) for i in range(400)]
    renamed = [resource(VOLUME, f"v{i}", {"name": f"m{i}"}) for i in range(400)]
    text = render(
        compare({"local": plan(*many)}, {"local": plan(*renamed)}), "a", "b", ["local"], 5000
    )
    assert len(text) <= 5000
    assert text.rstrip().endswith("prints all of it.")


# --- command line -------------------------------------------------------------------------------


def test_plans_from_files_and_folders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    local = json.loads((SNAPSHOTS / "local.json").read_text(encoding="utf-8"))
    changed = copy.deepcopy(local)
    volume = next(
        r for r in changed["resources"] if r["type"] == VOLUME and r["options"]["protect"]
    )
    volume["inputs"]["name"] += "-renamed"
    (tmp_path / "base.json").write_text(json.dumps(local), encoding="utf-8")
    (tmp_path / "head.json").write_text(json.dumps(changed), encoding="utf-8")
    assert main(["--plans", str(tmp_path / "base.json"), str(tmp_path / "head.json")]) == 0
    text = capsys.readouterr().out
    assert f"Volume `{volume['name']}` is **replaced**" in destructive(text)
    assert "Settings are not compared: plan files carry no stack config" in text


def test_bad_input_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["no-such-ref-xyz", "HEAD"]) == 2
    assert "'no-such-ref-xyz' is not a commit" in capsys.readouterr().err
    (tmp_path / "x.json").write_text("{}", encoding="utf-8")
    assert main(["--plans", str(tmp_path / "x.json"), str(tmp_path / "x.json")]) == 2
    assert "not an offline plan" in capsys.readouterr().err


def diff_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tools.diff", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_git_refs_are_planned_with_each_side_s_own_synth() -> None:
    result = diff_cli("--no-cache", "HEAD", "HEAD")
    assert result.returncode == 0, result.stderr
    assert "`HEAD`" in result.stdout and "no change" in result.stdout.lower()


def test_each_checkout_is_planned_with_its_own_modules(tmp_path: Path) -> None:
    # Both checkouts are planned in one process; the second must not reuse the first's modules.
    base, head = tmp_path / "base", tmp_path / "head"
    for root in (base, head):
        root.mkdir()
        extract(resolve("HEAD"), root)
    versions = head / "components" / "versions.py"
    text = versions.read_text(encoding="utf-8")
    image = re.search(r'"([a-z][\w./-]*:[\w.-]+)"', text)
    assert image, "components/versions.py pins images as name:tag strings"
    versions.write_text(text.replace(image.group(1), image.group(1) + "-patched"), "utf-8")
    old, new = plan_roots([(base, "base"), (head, "head")])
    assert "-patched" not in json.dumps(old["local"].resources)
    assert "-patched" in json.dumps(new["local"].resources)
    assert old["local"].config == new["local"].config != {}


def test_cached_plans_read_back_as_they_were_written(tmp_path: Path) -> None:
    side = load_plans(SNAPSHOTS)
    side["local"] = StackPlan("local", side["local"].resources, side["local"].outputs, CONFIG)
    side["broken"] = StackPlan("broken", config={}, error="SettingsError: no")
    write_cached(tmp_path / "plans.json", side)
    assert read_cached(tmp_path / "plans.json") == side
    assert read_cached(tmp_path / "missing.json") is None


def test_help_describes_the_tool() -> None:
    result = diff_cli("--help")
    assert result.returncode == 0
    words = " ".join(result.stdout.split())
    assert "--plans" in words and "the merge base of HEAD with main" in words
