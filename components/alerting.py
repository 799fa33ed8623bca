"""Grafana-managed alerting as code: rule groups in a fixed-UID folder, contact points from
stack config and the one notification policy, identical on both targets.

Each rule (alerts/) becomes three stages: the query (A), a reduce to the last
value (B) and a threshold on it (C, the condition). The comparison lives in C, so a healthy
series stays a series (Normal) instead of vanishing (No Data), and instance labels survive.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumiverse_grafana as grafana

from alerts import (
    GROUP_INTERVALS,
    VALUE,
    AlertRule,
    PanelLink,
    alert_rules,
)
from components.datasources import LOKI_UID, PROMETHEUS_UID
from components.settings import AlertingSettings, Receiver
from dashboards.spec import Folder
from vocabulary.pricing import PricingTable
from vocabulary.recording import GROUP as RECORDING_GROUP
from vocabulary.recording import INTERVAL_SECONDS as RECORDING_INTERVAL_SECONDS
from vocabulary.recording import RecordingRule, recording_rules

ALERT_FOLDER = Folder("llm-o11y-alerts", "LLM Alerts")
EXPRESSION_UID = "__expr__"
DATASOURCE_UIDS = {"prometheus": PROMETHEUS_UID, "loki": LOKI_UID}
# Grafana's defaults for alert queries (the rule editor writes the same).
QUERY_INTERVAL_MS = 1000
QUERY_MAX_DATA_POINTS = 43_200
GROUP_BY = ["alertname", "severity"]
SEVERITY_ORDER = ("critical", "warning", "info")
# A recording query reads its 5-minute window, the minute before it and 10 minutes of look-back.
RECORDING_LOOKBACK_SECONDS = 1200


class AlertLinkError(ValueError):
    """A rule links a panel its dashboard does not have (a renamed or removed panel)."""


# --- rule data: what Grafana evaluates ---------------------------------------------------------


def _expression_ref() -> dict[str, str]:
    return {"type": EXPRESSION_UID, "uid": EXPRESSION_UID}


def query_model(rule: AlertRule) -> dict[str, Any]:
    uid = DATASOURCE_UIDS[rule.datasource]
    model: dict[str, Any] = {
        "refId": "A",
        "datasource": {"type": rule.datasource, "uid": uid},
        "editorMode": "code",
        "expr": rule.query,
        "intervalMs": QUERY_INTERVAL_MS,
        "maxDataPoints": QUERY_MAX_DATA_POINTS,
    }
    if rule.datasource == "loki":
        model["queryType"] = "instant"
    else:
        model.update(instant=True, range=False)
    return model


def reduce_model(rule: AlertRule) -> dict[str, Any]:
    model: dict[str, Any] = {
        "refId": "B",
        "datasource": _expression_ref(),
        "type": "reduce",
        "expression": "A",
        "reducer": "last",
    }
    if rule.nan_is_zero:
        model["settings"] = {"mode": "replaceNN", "replaceWithValue": 0}
    return model


def threshold_model(rule: AlertRule) -> dict[str, Any]:
    return {
        "refId": "C",
        "datasource": _expression_ref(),
        "type": "threshold",
        "expression": "B",
        "conditions": [
            {"evaluator": {"type": rule.threshold.kind, "params": list(rule.threshold.params)}}
        ],
    }


def grafana_data(rule: AlertRule) -> list[dict[str, Any]]:
    """The rule's stages as Grafana's API writes them (`data` of a provisioned rule)."""
    return [
        {
            "refId": "A",
            "datasourceUid": DATASOURCE_UIDS[rule.datasource],
            "relativeTimeRange": {"from": rule.window_seconds, "to": 0},
            "model": query_model(rule),
        },
        {
            "refId": "B",
            "datasourceUid": EXPRESSION_UID,
            "relativeTimeRange": {"from": 0, "to": 0},
            "model": reduce_model(rule),
        },
        {
            "refId": "C",
            "datasourceUid": EXPRESSION_UID,
            "relativeTimeRange": {"from": 0, "to": 0},
            "model": threshold_model(rule),
        },
    ]


def rule_data(
    table: PricingTable, settings: AlertingSettings | None = None
) -> list[dict[str, Any]]:
    """Every rule's `data` entries, each tagged with its rule title under `ruleTitle` (for the
    universal query check)."""
    rules = alert_rules((settings or AlertingSettings()).thresholds, table)
    return [{**entry, "ruleTitle": rule.title} for rule in rules for entry in grafana_data(rule)]


# --- annotations -------------------------------------------------------------------------------


def _panels(panels: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))  # a collapsed row holds its panels


def panel_id(dashboard: Mapping[str, Any], title: str) -> int | None:
    ids = [p["id"] for p in _panels(dashboard.get("panels", [])) if p.get("title") == title]
    return ids[0] if len(ids) == 1 else None


def link_annotations(
    link: PanelLink, dashboards: Mapping[str, Mapping[str, Any]], rule_title: str
) -> dict[str, str]:
    """`__dashboardUid__` + `__panelId__` (Grafana requires both), resolved by panel title from
    the rendered dashboard; only a dashboard link while that dashboard is not part of the
    program."""
    dashboard = dashboards.get(link.dashboard_uid)
    if dashboard is None:
        return {"dashboard_url": f"/d/{link.dashboard_uid}"}
    found = panel_id(dashboard, link.panel_title)
    if found is None:
        raise AlertLinkError(
            f"alert rule {rule_title!r} links panel {link.panel_title!r}, which dashboard "
            f"{link.dashboard_uid} does not have exactly once"
        )
    return {"__dashboardUid__": link.dashboard_uid, "__panelId__": str(found)}


def annotations(
    rule: AlertRule, settings: AlertingSettings, dashboards: Mapping[str, Mapping[str, Any]]
) -> dict[str, str]:
    return {
        "summary": rule.summary,
        "description": rule.description.replace(VALUE, "$values.B.Value"),
        "runbook_url": f"{settings.runbook_base_url}#{rule.runbook_anchor}",
        **link_annotations(rule.panel, dashboards, rule.title),
    }


def rule_args(
    rule: AlertRule, settings: AlertingSettings, dashboards: Mapping[str, Mapping[str, Any]]
) -> grafana.alerting.RuleGroupRuleArgs:
    return grafana.alerting.RuleGroupRuleArgs(
        uid=rule.uid,
        name=rule.title,
        condition="C",
        datas=[
            grafana.alerting.RuleGroupRuleDataArgs(
                ref_id=entry["refId"],
                datasource_uid=entry["datasourceUid"],
                relative_time_range=grafana.alerting.RuleGroupRuleDataRelativeTimeRangeArgs(
                    from_=entry["relativeTimeRange"]["from"], to=entry["relativeTimeRange"]["to"]
                ),
                model=json.dumps(entry["model"], sort_keys=True),
            )
            for entry in grafana_data(rule)
        ],
        for_=rule.pending,
        no_data_state=rule.states.no_data,
        exec_err_state=rule.states.exec_err,
        is_paused=False,
        labels={"severity": rule.severity, "team": settings.team},
        annotations=annotations(rule, settings, dashboards),
    )


def recording_rule_args(
    rule: RecordingRule, target_datasource_uid: str
) -> grafana.alerting.RuleGroupRuleArgs:
    """A Grafana-managed recording rule: query A, recorded as `rule.record` into the target
    datasource. Its range reaches back over the window, its delay and the look-back before it."""
    model = {
        "refId": "A",
        "datasource": {"type": "prometheus", "uid": PROMETHEUS_UID},
        "editorMode": "code",
        "expr": rule.expr,
        "instant": True,
        "range": False,
        "intervalMs": QUERY_INTERVAL_MS,
        "maxDataPoints": QUERY_MAX_DATA_POINTS,
    }
    return grafana.alerting.RuleGroupRuleArgs(
        uid="llm-rec-" + hashlib.sha256(rule.record.encode()).hexdigest()[:16],
        name=rule.record,
        datas=[
            grafana.alerting.RuleGroupRuleDataArgs(
                ref_id="A",
                datasource_uid=PROMETHEUS_UID,
                relative_time_range=grafana.alerting.RuleGroupRuleDataRelativeTimeRangeArgs(
                    from_=RECORDING_LOOKBACK_SECONDS, to=0
                ),
                model=json.dumps(model, sort_keys=True),
            )
        ],
        is_paused=False,
        record=grafana.alerting.RuleGroupRuleRecordArgs(
            metric=rule.record, from_="A", target_datasource_uid=target_datasource_uid
        ),
    )


# --- contact points and the notification policy ------------------------------------------------


def contact_point_args(receiver: Receiver) -> dict[str, Any]:
    """The integration of one receiver; every credential is a Pulumi secret."""
    if receiver.email is not None:
        return {
            "emails": [
                grafana.alerting.ContactPointEmailArgs(
                    addresses=list(receiver.email.addresses), single_email=True
                )
            ]
        }
    if receiver.slack is not None:
        slack = receiver.slack
        return {
            "slacks": [
                grafana.alerting.ContactPointSlackArgs(
                    url=pulumi.Output.secret(slack.url),
                    recipient=slack.recipient,
                    mention_channel=slack.mention_channel,
                )
            ]
        }
    webhook = receiver.webhook
    assert webhook is not None  # the settings model allows exactly one kind
    credentials = webhook.authorization_credentials
    password = webhook.basic_auth_password
    return {
        "webhooks": [
            grafana.alerting.ContactPointWebhookArgs(
                url=webhook.url,
                # The provider does not mark these sensitive: keep them secret in state.
                authorization_scheme=webhook.authorization_scheme if credentials else None,
                authorization_credentials=pulumi.Output.secret(credentials)
                if credentials is not None
                else None,
                basic_auth_user=webhook.basic_auth_user,
                basic_auth_password=pulumi.Output.secret(password)
                if password is not None
                else None,
            )
        ]
    }


def routes(settings: AlertingSettings) -> list[tuple[str, str]]:
    """(severity, receiver name) pairs, most severe first, in the receivers' order."""
    return [
        (severity, receiver.name)
        for severity in SEVERITY_ORDER
        for receiver in settings.receivers
        if severity in receiver.severities
    ]


def notification_summary(settings: AlertingSettings, rule_count: int) -> str:
    """What a user reads in the stack outputs about who gets notified."""
    where = f"{rule_count} alert rules in Grafana's folder '{ALERT_FOLDER.title}'"
    if not settings.receivers:
        return (
            f"no receivers configured: {where} evaluate and show in Grafana (Alerting > Alert "
            "rules) but notify nobody; add llm-o11y:alerting.receivers to be notified"
        )
    by_severity = {
        severity: [name for sev, name in routes(settings) if sev == severity]
        for severity in SEVERITY_ORDER
    }
    parts = [f"{sev} -> {', '.join(names)}" for sev, names in by_severity.items() if names]
    fallback = settings.receivers[0].name
    return f"{where}; {'; '.join(parts)}; anything else -> {fallback}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass(frozen=True)
class AlertingArgs:
    settings: AlertingSettings
    provider: grafana.Provider
    # The prices token-only apps are recorded at and the unpriced-model rule checks against.
    pricing: PricingTable
    # Rendered dashboards (uid -> JSON model) whose panels rules link; None: the program's own.
    dashboards: Mapping[str, Mapping[str, Any]] | None = None
    # Where the recording rules write (Target.recording_datasource_uid).
    recording_datasource_uid: str = PROMETHEUS_UID


class Alerting(pulumi.ComponentResource):
    """Alert rules, contact points and the notification policy; `exports` says who is told."""

    def __init__(
        self, name: str, args: AlertingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("llm-o11y:alerting:Alerting", name, None, opts)
        settings = args.settings
        dashboards = args.dashboards
        if dashboards is None:
            from dashboards import render_all

            dashboards = render_all(args.pricing)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        pricing = args.pricing
        rules = alert_rules(settings.thresholds, pricing)

        # Children do not inherit the component's depends_on, and Grafana refuses a rule whose
        # datasource does not exist yet: the folder waits, and every rule group waits for it.
        self.folder = grafana.oss.Folder(
            f"{name}-folder",
            uid=ALERT_FOLDER.uid,
            title=ALERT_FOLDER.title,
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(depends_on=(opts.depends_on if opts else None))
            ),
        )
        self.rule_groups = {
            group: grafana.alerting.RuleGroup(
                f"{name}-{_slug(group)}",
                name=group,
                folder_uid=self.folder.uid,
                interval_seconds=interval,
                rules=[rule_args(r, settings, dashboards) for r in rules if r.group == group],
                opts=child,
            )
            for group, interval in GROUP_INTERVALS.items()
        }
        # Recording rules, Grafana-managed on both targets: one resource type, and no Prometheus
        # or Mimir ruler to configure per target.
        self.recording_group = grafana.alerting.RuleGroup(
            f"{name}-recorded-series",
            name=RECORDING_GROUP,
            folder_uid=self.folder.uid,
            interval_seconds=RECORDING_INTERVAL_SECONDS,
            rules=[
                recording_rule_args(rule, args.recording_datasource_uid)
                for rule in recording_rules(pricing)
            ],
            opts=child,
        )
        self.contact_points = {
            receiver.name: grafana.alerting.ContactPoint(
                f"{name}-contact-{_slug(receiver.name)}",
                name=receiver.name,
                **contact_point_args(receiver),
                opts=child,
            )
            for receiver in settings.receivers
        }
        self.notification_policy = self._policy(name, settings, child)
        self.exports: dict[str, pulumi.Input[str]] = {
            "alertNotifications": notification_summary(settings, len(rules))
        }
        self.register_outputs({"folder": self.folder.uid, **self.exports})

    def _policy(
        self, name: str, settings: AlertingSettings, opts: pulumi.ResourceOptions
    ) -> grafana.alerting.NotificationPolicy | None:
        """The org's one policy tree; none without receivers (Grafana's default stays)."""
        if not settings.receivers:
            return None
        notify = settings.notifications
        repeat = notify.repeat_interval.model_dump()
        points = self.contact_points
        children = [
            grafana.alerting.NotificationPolicyPolicyArgs(
                contact_point=points[receiver].name,
                matchers=[
                    grafana.alerting.NotificationPolicyPolicyMatcherArgs(
                        label="severity", match="=", value=severity
                    )
                ],
                # Every receiver that subscribed to the severity gets the alert.
                continue_=True,
                repeat_interval=repeat[severity],
            )
            for severity, receiver in routes(settings)
        ]
        return grafana.alerting.NotificationPolicy(
            f"{name}-notification-policy",
            # Alerts no route takes (a severity nobody subscribed to) go to the first receiver.
            contact_point=points[settings.receivers[0].name].name,
            group_bies=GROUP_BY,
            group_wait=notify.group_wait,
            group_interval=notify.group_interval,
            repeat_interval=repeat["info"],
            policies=children,
            opts=opts,
        )
