"""Infrastructure: resources added, removed and changed, and what each replacement costs."""

from __future__ import annotations

import json
from typing import Any

from tools.diff.model import Finding, Level, Section, StackPlan
from tools.diff.replacement import dashboard_uid, forcing_fields
from tools.diff.values import (
    MISSING,
    change_line,
    change_lines,
    changed_paths,
    code,
    parse_json_text,
    short,
)

CONTAINER = "docker:index/container:Container"
VOLUME = "docker:index/volume:Volume"
NETWORK = "docker:index/network:Network"
IMAGE = "docker:index/remoteImage:RemoteImage"
DATASOURCE = "grafana:oss/dataSource:DataSource"
FOLDER = "grafana:oss/folder:Folder"
DASHBOARD = "grafana:oss/dashboard:Dashboard"
RULE_GROUP = "grafana:alerting/ruleGroup:RuleGroup"
CLOUD_STACK = "grafana:cloud/stack:Stack"
TOKENS = (
    "grafana:cloud/stackServiceAccountToken:StackServiceAccountToken",
    "grafana:cloud/accessPolicyToken:AccessPolicyToken",
)
# Their in-place changes are read in the Dashboards and Alert rules sections.
DESCRIBED_ELSEWHERE = (DASHBOARD, RULE_GROUP)
# Option changes that matter to a reviewer (dependsOn follows the code and is left out).
OPTIONS = ("deleteBeforeReplace", "retainOnDelete", "ignoreChanges", "additionalSecretOutputs")
MAX_DETAILS = 8
IDENTITY_KEYS = ("uid", "name", "slug", "title")

Resource = dict[str, Any]
Cost = tuple[Level, str]


def kind(resource: Resource) -> str:
    return str(resource["type"]).rsplit(":", 1)[-1]


def is_lookup(resource: Resource) -> bool:
    """Provider functions (getStack) are recorded in the plan beside resources."""
    return kind(resource)[:1].islower()


def describe(resource: Resource) -> str:
    noun = "lookup" if is_lookup(resource) else kind(resource)
    return f"{noun} {code(resource['name'])}"


def identities(resource: Resource) -> set[tuple[str, str]]:
    """What names the real thing (a uid, a Docker name, a title), to pair a logical rename."""
    inputs = resource.get("inputs") or {}
    found = {(key, inputs[key]) for key in IDENTITY_KEYS if isinstance(inputs.get(key), str)}
    if resource["type"] == DASHBOARD:
        model = parse_json_text(inputs.get("configJson"))
        if isinstance(model, dict):
            found |= {(k, model[k]) for k in ("uid", "title") if isinstance(model.get(k), str)}
    if not found and inputs:
        found.add(("inputs", json.dumps(inputs, sort_keys=True)))
    return found


def option(resource: Resource, name: str) -> Any:
    return (resource.get("options") or {}).get(name)


def count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def folder_contents(plan: StackPlan, uid: str | None) -> str:
    """The alert rules and dashboards of `plan` in folder `uid`."""
    groups = [
        g for g in plan.of_type(RULE_GROUP) if (g.get("inputs") or {}).get("folderUid") == uid
    ]
    rules = sum(len((g.get("inputs") or {}).get("rules") or []) for g in groups)
    boards = [d for d in plan.of_type(DASHBOARD) if (d.get("inputs") or {}).get("folder") == uid]
    return f"{count(rules, 'alert rule')} and {count(len(boards), 'dashboard')}"


def folder_loss(base: StackPlan, head: StackPlan, uid: str | None) -> str:
    """Pulumi deletes a folder after updating what moves out of it: what stays is lost."""
    return (
        f"Grafana deletes folder {code(str(uid))} with whatever is still in it: "
        f"{folder_contents(head, uid)} of the new plan (of {folder_contents(base, uid)} before) "
        "and anything made by hand there"
    )


def refers_to_datasource(value: Any, uid: str | None) -> bool:
    """A datasource reference ({"type", "uid"}) or a datasource variable set to `uid`."""
    if isinstance(value, dict):
        if value.get("uid") == uid and "type" in value:
            return True
        if value.get("datasourceUid") == uid:
            return True
        if value.get("type") == "datasource" and (value.get("current") or {}).get("value") == uid:
            return True
        return any(refers_to_datasource(v, uid) for v in value.values())
    if isinstance(value, list):
        return any(refers_to_datasource(v, uid) for v in value)
    return False


def datasource_users(plan: StackPlan, uid: str | None) -> str:
    """How many dashboards and alert rules of `plan` still refer to datasource `uid`."""
    boards = sum(
        refers_to_datasource(parse_json_text((d.get("inputs") or {}).get("configJson")), uid)
        for d in plan.of_type(DASHBOARD)
    )
    rules = sum(
        any(
            stage.get("datasourceUid") == uid
            or refers_to_datasource(parse_json_text(stage.get("model")), uid)
            for stage in rule.get("datas") or []
        )
        for g in plan.of_type(RULE_GROUP)
        for rule in (g.get("inputs") or {}).get("rules") or []
    )
    return f"{count(boards, 'dashboard')} and {count(rules, 'alert rule')}"


def rules_linking(plan: StackPlan, dashboard: str | None) -> int:
    return sum(
        1
        for g in plan.of_type(RULE_GROUP)
        for rule in (g.get("inputs") or {}).get("rules") or []
        if (rule.get("annotations") or {}).get("__dashboardUid__") == dashboard
    )


def volume_loss(inputs: dict[str, Any]) -> str:
    return f"Docker deletes volume {code(str(inputs.get('name')))} and its data"


def stack_loss(inputs: dict[str, Any]) -> str:
    return f"Grafana Cloud deletes stack {code(str(inputs.get('slug')))} with all its data"


def replace_cost(before: Resource, after: Resource, base: StackPlan, head: StackPlan) -> Cost:
    """What deleting `before` and creating `after` does, in the words a reviewer needs."""
    old, new = before.get("inputs") or {}, after.get("inputs") or {}
    token = after["type"]
    if token == VOLUME:
        return Level.DESTRUCTIVE, volume_loss(old)
    if token == CONTAINER:
        if option(after, "deleteBeforeReplace"):
            return Level.DISRUPTIVE, "the container restarts: down until the new one is healthy"
        return Level.DISRUPTIVE, (
            "the container restarts, its replacement created first: a fixed name or host port "
            "collides (set deleteBeforeReplace)"
        )
    if token == NETWORK:
        return Level.DISRUPTIVE, "every container on the network is recreated with it"
    if token == IMAGE:
        return Level.CHANGE, f"pulls {short(new.get('name'))}"
    if token == FOLDER:
        return Level.DESTRUCTIVE, f"{folder_loss(base, head, old.get('uid'))}; links to it break"
    if token == DATASOURCE:
        clash = ""
        if old.get("name") == new.get("name") and not option(after, "deleteBeforeReplace"):
            clash = (
                f"; created before the old one is deleted, it clashes with its name "
                f"{code(str(new.get('name')))} (Grafana's datasource names are unique: set "
                "deleteBeforeReplace)"
            )
        return Level.DESTRUCTIVE, (
            f"uid {code(str(old.get('uid')))} → {code(str(new.get('uid')))} orphans what refers "
            f"to the old uid ({datasource_users(head, old.get('uid'))} here, and any "
            f"hand-made dashboard){clash}"
        )
    if token == DASHBOARD:
        uid = dashboard_uid(old)
        return Level.DESTRUCTIVE, (
            f"uid {code(str(uid))} → {code(str(dashboard_uid(new)))}: the URL /d/{uid} stops "
            f"working, its version history is lost, {count(rules_linking(head, uid), 'alert rule')}"
            " still link to it"
        )
    if token == RULE_GROUP:
        rules = len(old.get("rules") or [])
        titles = {r.get("name") for r in old.get("rules") or []} & {
            r.get("name") for r in new.get("rules") or []
        }
        clash = ""
        if (
            titles
            and old.get("folderUid") == new.get("folderUid")
            and not option(after, "deleteBeforeReplace")
        ):
            clash = (
                "; created before the old group is deleted, its rules' titles are still taken "
                "in the folder and the provider refuses them (set deleteBeforeReplace)"
            )
        return Level.DISRUPTIVE, (
            f"its {count(rules, 'rule')} are deleted and created again: alert state and history "
            f"start over{clash}"
        )
    if token == CLOUD_STACK:
        return Level.DESTRUCTIVE, stack_loss(old)
    if token in TOKENS:
        return Level.DISRUPTIVE, "a new token replaces the old one: clients still using it fail"
    if token.startswith("random:"):
        return Level.DISRUPTIVE, "a new value is generated; whatever stored the old one keeps it"
    return Level.DISRUPTIVE, "it is deleted and created again"


def delete_cost(resource: Resource, base: StackPlan, head: StackPlan) -> Cost:
    inputs = resource.get("inputs") or {}
    token = resource["type"]
    if token == VOLUME:
        return Level.DESTRUCTIVE, volume_loss(inputs)
    if token == FOLDER:
        return Level.DESTRUCTIVE, folder_loss(base, head, inputs.get("uid"))
    if token == DATASOURCE:
        return Level.DESTRUCTIVE, (
            f"{datasource_users(head, inputs.get('uid'))} of the new plan still use uid "
            f"{code(str(inputs.get('uid')))}"
        )
    if token == CLOUD_STACK:
        return Level.DESTRUCTIVE, stack_loss(inputs)
    if token == DASHBOARD:
        uid = dashboard_uid(inputs)
        return Level.CHANGE, f"/d/{uid} stops working and its version history is lost"
    if token == CONTAINER:
        return Level.DISRUPTIVE, "the service stops"
    if token in TOKENS:
        return Level.DISRUPTIVE, "clients still using the token fail"
    return Level.CHANGE, ""


def with_protection(resource: Resource, cost: Cost, action: str) -> Cost:
    if not option(resource, "protect"):
        return cost
    text = cost[1]
    note = f"protected: `pulumi up` refuses to {action} it until `pulumi state unprotect`, and then"
    return Level.DESTRUCTIVE, f"{note} {text}" if text else note.removesuffix(", and then")


def detail_lines(before: Resource, after: Resource) -> tuple[str, ...]:
    paths = changed_paths(before.get("inputs") or {}, after.get("inputs") or {})
    return tuple(change_lines(paths, MAX_DETAILS))


def pair_renames(removed: list[Resource], added: list[Resource]) -> list[tuple[Resource, Resource]]:
    """Removed and added resources of one type that name the same real thing."""
    pairs = []
    for old in removed:
        match = next(
            (
                new
                for new in added
                if new["type"] == old["type"] and identities(new) & identities(old)
            ),
            None,
        )
        if match is not None:
            pairs.append((old, match))
            added = [a for a in added if a is not match]
    return pairs


def dependents_line(resource: Resource, head: StackPlan) -> tuple[str, ...]:
    """What depends on a replaced resource. The plan's ids are stand-ins that never change, so
    a replacement's new id shows nowhere else: these see it, and one it reaches through an
    input that forces replacement is replaced too."""
    names = [
        code(name)
        for name in sorted(
            r["name"]
            for r in head.resources
            if resource["name"] in (option(r, "dependsOn") or [])
            and not r["type"].startswith("llm-o11y:")
        )
    ]
    if not names:
        return ()
    shown = ", ".join(names[:MAX_DETAILS])
    more = f" and {len(names) - MAX_DETAILS} more" if len(names) > MAX_DETAILS else ""
    return (f"depends on it, so sees its new outputs: {shown}{more}",)


def compare(
    before: Resource,
    after: Resource,
    base: StackPlan,
    head: StackPlan,
    new_urn_reason: str | None = None,
) -> list[Finding]:
    """Findings for one resource present on both sides (under the same or a new name)."""
    found: list[Finding] = []
    subject = describe(after)
    if before.get("parent") != after.get("parent") and new_urn_reason is None:
        new_urn_reason = (
            f"its parent changes ({short(before.get('parent'))} → {short(after.get('parent'))})"
        )
    details = detail_lines(before, after)
    forcing = forcing_fields(after["type"], before.get("inputs") or {}, after.get("inputs") or {})
    if new_urn_reason is not None or forcing:
        details += dependents_line(after, head)
    if new_urn_reason is not None:
        level, cost = with_protection(before, replace_cost(before, after, base, head), "replace")
        found.append(
            Finding(
                Section.INFRASTRUCTURE,
                level,
                f"{subject} is **replaced**: {new_urn_reason}, so its URN changes and Pulumi "
                f"deletes and re-creates it unless the code sets an alias; {cost}",
                details,
            )
        )
    elif forcing:
        level, cost = with_protection(before, replace_cost(before, after, base, head), "replace")
        fields = ", ".join(code(f) for f in forcing)
        found.append(
            Finding(
                Section.INFRASTRUCTURE,
                level,
                f"{subject} is **replaced** (a change to {fields} forces it): {cost}",
                details,
            )
        )
    elif details and forcing is None and not is_lookup(after):
        found.append(
            Finding(
                Section.INFRASTRUCTURE,
                Level.CHANGE,
                f"{subject} changes; whether that replaces it is not known for "
                f"{code(after['type'])} here (check `pulumi preview`)",
                details,
            )
        )
    elif details and after["type"] not in DESCRIBED_ELSEWHERE:
        what = "arguments change" if is_lookup(after) else "is updated in place"
        found.append(Finding(Section.INFRASTRUCTURE, Level.CHANGE, f"{subject} {what}", details))
    found += option_changes(before, after)
    return found


def option_changes(before: Resource, after: Resource) -> list[Finding]:
    found = []
    subject = describe(after)
    was, now = bool(option(before, "protect")), bool(option(after, "protect"))
    if was and not now:
        found.append(
            Finding(
                Section.INFRASTRUCTURE,
                Level.DISRUPTIVE,
                f"{subject} **loses its protection**: a `pulumi destroy` deletes it from now on",
            )
        )
    elif now and not was:
        found.append(Finding(Section.INFRASTRUCTURE, Level.CHANGE, f"{subject} becomes protected"))
    changed = [
        change_line(name, option(before, name), option(after, name))
        for name in OPTIONS
        if option(before, name) != option(after, name)
    ]
    if changed:
        found.append(
            Finding(
                Section.INFRASTRUCTURE, Level.CHANGE, f"{subject} options change", tuple(changed)
            )
        )
    if before.get("provider") != after.get("provider"):
        found.append(
            Finding(
                Section.INFRASTRUCTURE,
                Level.DISRUPTIVE,
                f"{subject} moves from provider {short(before.get('provider'))} to "
                f"{short(after.get('provider'))}: Pulumi replaces it unless both providers are "
                "configured alike",
            )
        )
    return found


def infrastructure(base: StackPlan, head: StackPlan) -> list[Finding]:
    before, after = base.by_key(), head.by_key()
    removed = [before[k] for k in sorted(set(before) - set(after))]
    added = [after[k] for k in sorted(set(after) - set(before))]
    found: list[Finding] = []
    for old, new in pair_renames(removed, added):
        removed.remove(old)
        added.remove(new)
        reason = f"its logical name changes from {code(old['name'])}"
        found += compare(old, new, base, head, new_urn_reason=reason)
    for key in sorted(set(before) & set(after)):
        found += compare(before[key], after[key], base, head)
    for resource in removed:
        level, cost = with_protection(resource, delete_cost(resource, base, head), "delete")
        text = f"{describe(resource)} is **deleted**" + (f": {cost}" if cost else "")
        found.append(Finding(Section.INFRASTRUCTURE, level, text))
    if added:
        found.append(added_finding(added))
    found += output_changes(base.outputs, head.outputs)
    return found


def added_finding(added: list[Resource]) -> Finding:
    """One line for everything new, names grouped by kind."""
    kinds: dict[str, list[str]] = {}
    for resource in added:
        noun = "lookup" if is_lookup(resource) else kind(resource)
        kinds.setdefault(noun, []).append(code(resource["name"]))
    details = tuple(f"{noun}: {', '.join(names)}" for noun, names in sorted(kinds.items()))
    return Finding(
        Section.INFRASTRUCTURE, Level.CHANGE, f"{count(len(added), 'resource')} added", details
    )


def output_changes(before: dict[str, Any], after: dict[str, Any]) -> list[Finding]:
    lines = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key, MISSING), after.get(key, MISSING)
        if old != new:
            lines.append(change_line(key, old, new))
    if not lines:
        return []
    return [Finding(Section.INFRASTRUCTURE, Level.CHANGE, "Stack outputs change", tuple(lines))]
