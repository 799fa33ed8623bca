"""Which input changes make Pulumi replace a resource (delete and create it again).

Read from the providers' schemas: a field marked ForceNew in terraform-provider-docker 4.x
(wrapped by pulumi-docker 5.x) and terraform-provider-grafana 4.x (pulumiverse-grafana 2.44),
and the random provider, whose every input forces a new value. Names are the camelCase inputs
of the offline plan.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tools.diff.values import MISSING


@dataclass(frozen=True)
class ForceNew:
    """`fields` force replacement; with `all_but`, every input except `fields` does."""

    fields: frozenset[str]
    all_but: bool = False

    def forcing(self, changed: set[str]) -> list[str]:
        hits = changed - self.fields if self.all_but else changed & self.fields
        return sorted(hits)


def _only(*names: str) -> ForceNew:
    return ForceNew(frozenset(names))


def _all_but(*names: str) -> ForceNew:
    return ForceNew(frozenset(names), all_but=True)


ORG = "orgId"  # every org-scoped Grafana resource: orgIDAttribute() is ForceNew

RULES: dict[str, ForceNew] = {
    # resource_docker_container.go: the update function changes only restart policy and
    # resources; the other non-ForceNew fields act in the provider alone. The healthcheck is
    # listed as updatable there, yet a real `pulumi up` recreated the container on a healthcheck
    # change (FIELD-NOTES), so it counts as forcing.
    "docker:index/container:Container": _all_but(
        "restart",
        "maxRetryCount",
        "cpuShares",
        "memory",
        "cpuSet",
        "memorySwap",
        "rm",
        "start",
        "wait",
        "waitTimeout",
        "attach",
        "logs",
        "mustRun",
        "removeVolumes",
        "destroyGraceSeconds",
        "containerReadRefreshTimeoutMilliseconds",
        "init",
        "tmpfs",
        "cpuPeriod",
        "cpuQuota",
    ),
    # No update function: any change recreates them.
    "docker:index/volume:Volume": _all_but(),
    "docker:index/network:Network": _all_but(),
    "docker:index/remoteImage:RemoteImage": _only(
        "name", "pullTrigger", "pullTriggers", "triggers", "build", "platform"
    ),
    "grafana:oss/dataSource:DataSource": _only("uid", ORG),
    "grafana:oss/folder:Folder": _only("uid", "parentFolderUid", ORG),
    # The dashboard's uid lives in configJson; a CustomizeDiff forces new when it changes.
    "grafana:oss/dashboard:Dashboard": _only(ORG),
    "grafana:alerting/ruleGroup:RuleGroup": _only("name", "folderUid", ORG),
    "grafana:alerting/contactPoint:ContactPoint": _only("name", "disableProvenance", ORG),
    "grafana:alerting/notificationPolicy:NotificationPolicy": _only(ORG),
    "grafana:alerting/messageTemplate:MessageTemplate": _only("name", ORG),
    "grafana:alerting/muteTiming:MuteTiming": _only("name", ORG),
    "grafana:cloud/stack:Stack": _only("regionSlug"),
    "grafana:cloud/stackServiceAccount:StackServiceAccount": _all_but(),
    "grafana:cloud/stackServiceAccountToken:StackServiceAccountToken": _all_but(),
    "grafana:cloud/accessPolicy:AccessPolicy": _only("region", "name"),
    "grafana:cloud/accessPolicyToken:AccessPolicyToken": _all_but("displayName"),
    "random:index/randomPassword:RandomPassword": _all_but(),
    "random:index/randomString:RandomString": _all_but(),
}


def dashboard_uid(inputs: dict[str, Any]) -> str | None:
    try:
        model = json.loads(inputs.get("configJson") or "{}")
    except ValueError:
        return None
    uid = model.get("uid") if isinstance(model, dict) else None
    return uid if isinstance(uid, str) else None


def is_known(type_token: str) -> bool:
    """Whether we know what forces replacement: providers and components never replace."""
    return (
        type_token in RULES
        or type_token.startswith("pulumi:providers:")
        or type_token.startswith("llm-o11y:")
    )


def forcing_fields(
    type_token: str, before: dict[str, Any], after: dict[str, Any]
) -> list[str] | None:
    """The changed inputs that force replacement ([] for none); None for an unknown type."""
    if not is_known(type_token):
        return None
    changed = {
        key
        for key in set(before) | set(after)
        if before.get(key, MISSING) != after.get(key, MISSING)
    }
    rule = RULES.get(type_token)
    found = rule.forcing(changed) if rule else []
    if type_token == "grafana:oss/dashboard:Dashboard" and dashboard_uid(before) != dashboard_uid(
        after
    ):
        found.append("configJson.uid")
    return found
