"""Every query of every dashboard panel and alert rule, with the datasource kind it runs on.

Dashboards are Grafana dashboard JSON models (uid -> model, as `dashboards.render_all()` returns);
alert rules are Grafana rule `data` entries (`datasourceUid` and a `model` holding `expr`, the
model as a dict or as the JSON string the Terraform/Pulumi provider takes). A panel or target
datasource is a `{type, uid}` reference, a bare uid, or a datasource template variable such as
`${ds_prometheus}`, resolved through the dashboard's `datasource` variables.
"""

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from tools.querylab.prometheus import (
    PromQLError,
    QueryContext,
    QueryDataset,
    interpolate,
    parse_duration,
)

Kind = Literal["prometheus", "loki", "tempo"]
KINDS: tuple[Kind, ...] = ("prometheus", "loki", "tempo")
# The fixed datasource UIDs both targets use (see DESIGN.md "Fixed datasource UIDs").
DEFAULT_UID_KINDS: Mapping[str, Kind] = {
    "prometheus": "prometheus",
    "loki": "loki",
    "tempo": "tempo",
}
# Server-side expressions (math, reduce, threshold) in alert rules: not a datasource query.
EXPRESSION_UIDS = frozenset({"__expr__", "-100"})
MIXED_UIDS = frozenset({"-- Mixed --", "-- Dashboard --"})
_VARIABLE_REFERENCE = re.compile(r"^\$\{?(\w+)(?::\w+)?\}?$")


class WalkError(ValueError):
    """A query whose datasource cannot be resolved: a dashboard or rule bug, reported by name."""


@dataclass(frozen=True)
class Query:
    """One query to check, with what Grafana would use to run it."""

    kind: Kind
    expr: str
    where: str  # e.g. "dashboard claude-code / panel 'Cost by model' / target A"
    datasource_uid: str
    instant: bool = False
    min_interval: str | None = None
    max_data_points: int | None = None
    time_from: str = "now-6h"
    time_to: str = "now"
    variables: Mapping[str, str | list[str]] = field(default_factory=dict)


def _datasource_variables(dashboard: Mapping[str, Any]) -> dict[str, tuple[Kind | None, str]]:
    """name -> (kind, uid) of the dashboard's datasource template variables."""
    found: dict[str, tuple[Kind | None, str]] = {}
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") != "datasource":
            continue
        plugin = variable.get("query")
        kind = plugin if plugin in KINDS else None
        current = variable.get("current") or {}
        uid = current.get("value") or plugin or ""
        if isinstance(uid, list):
            uid = uid[0] if uid else ""
        found[variable["name"]] = (kind, str(uid))
    return found


def template_values(dashboard: Mapping[str, Any]) -> dict[str, str | list[str]]:
    """Values Grafana would substitute for the dashboard's own variables on first load."""
    values: dict[str, str | list[str]] = {}
    for variable in dashboard.get("templating", {}).get("list", []):
        kind, name = variable.get("type"), variable.get("name")
        if kind == "datasource" or not name:
            continue
        current = variable.get("current") or {}
        value = current.get("value")
        if variable.get("includeAll") and (value in (None, "", "$__all", ["$__all"])):
            values[name] = variable.get("allValue") or ".*"
        elif kind == "interval" and (value is None or str(value).startswith("$__auto")):
            values[name] = "$__interval"
        elif value not in (None, ""):
            values[name] = value if isinstance(value, str | list) else str(value)
        elif variable.get("options"):
            values[name] = str(variable["options"][0].get("value", ""))
        elif variable.get("query") and kind in ("constant", "textbox", "custom"):
            values[name] = str(variable["query"]).split(",")[0].strip()
    return values


def _resolve(
    reference: Any,
    variables: Mapping[str, tuple[Kind | None, str]],
    uid_kinds: Mapping[str, Kind],
    where: str,
) -> tuple[Kind, str] | None:
    """(kind, uid) of a datasource reference; None for expressions and mixed placeholders."""
    if reference is None:
        return None
    declared_type = reference.get("type") if isinstance(reference, Mapping) else None
    uid = reference.get("uid") if isinstance(reference, Mapping) else reference
    uid = "" if uid is None else str(uid)
    match = _VARIABLE_REFERENCE.match(uid)
    if match:
        name = match.group(1)
        if name not in variables:
            raise WalkError(f"{where}: datasource variable ${name} is not defined")
        kind, uid = variables[name]
        if kind is None:
            raise WalkError(f"{where}: datasource variable ${name} has no plugin type")
        return kind, uid
    if uid in EXPRESSION_UIDS or declared_type == "__expr__" or uid in MIXED_UIDS:
        return None
    if uid in uid_kinds:
        return uid_kinds[uid], uid
    if declared_type in KINDS and not uid:
        return declared_type, declared_type
    raise WalkError(f"{where}: datasource uid {uid!r} is not one of {sorted(uid_kinds)}")


def _query_text(kind: Kind, target: Mapping[str, Any]) -> str | None:
    if kind == "tempo":
        query = target.get("query")
        return query if target.get("queryType", "traceql") == "traceql" and query else None
    return target.get("expr") or None


def _panels(panels: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))  # a collapsed row holds its panels


def dashboard_queries(
    dashboards: Mapping[str, Mapping[str, Any]],
    uid_kinds: Mapping[str, Kind] = DEFAULT_UID_KINDS,
) -> Iterator[Query]:
    """Every query of every panel of every dashboard (uid -> dashboard JSON model)."""
    for dashboard_uid, dashboard in dashboards.items():
        variables = _datasource_variables(dashboard)
        values = template_values(dashboard)
        time_range = dashboard.get("time") or {}
        for panel in _panels(dashboard.get("panels", [])):
            if panel.get("type") == "row":
                continue
            title = panel.get("title", f"id {panel.get('id')}")
            for target in panel.get("targets", []):
                ref_id = target.get("refId", "?")
                where = f"dashboard {dashboard_uid} / panel {title!r} / target {ref_id}"
                reference = target.get("datasource") or panel.get("datasource")
                if isinstance(reference, Mapping) and reference.get("uid") in MIXED_UIDS:
                    reference = target.get("datasource")
                resolved = _resolve(reference, variables, uid_kinds, where)
                if resolved is None:
                    continue
                kind, uid = resolved
                text = _query_text(kind, target)
                if text is None:
                    continue
                yield Query(
                    kind=kind,
                    expr=text,
                    where=where,
                    datasource_uid=uid,
                    # Prometheus targets flag `instant`; Loki targets say `queryType: instant`.
                    instant=(bool(target.get("instant")) and not target.get("range"))
                    or target.get("queryType") == "instant",
                    min_interval=target.get("interval") or panel.get("interval") or None,
                    max_data_points=panel.get("maxDataPoints"),
                    time_from=str(time_range.get("from", "now-6h")),
                    time_to=str(time_range.get("to", "now")),
                    variables=values,
                )


def _model(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    model = entry.get("model", {})
    return json.loads(model) if isinstance(model, str) else model


def alert_queries(
    rule_data: Iterable[Mapping[str, Any]],
    uid_kinds: Mapping[str, Kind] = DEFAULT_UID_KINDS,
    rule_name: str = "alert rule",
) -> Iterator[Query]:
    """Every datasource query among Grafana rule `data` entries (expressions are skipped)."""
    for entry in rule_data:
        where = f"{rule_name} / query {entry.get('refId', entry.get('ref_id', '?'))}"
        uid = entry.get("datasourceUid", entry.get("datasource_uid"))
        resolved = _resolve(uid, {}, uid_kinds, where)
        if resolved is None:
            continue
        kind, uid = resolved
        model = _model(entry)
        text = _query_text(kind, model)
        if text is None:
            raise WalkError(f"{where}: the model has no query text")
        relative = entry.get("relativeTimeRange", entry.get("relative_time_range")) or {}
        window = int(relative.get("from", 600))
        yield Query(
            kind=kind,
            expr=text,
            where=where,
            datasource_uid=uid,
            instant=bool(model.get("instant", True)),
            min_interval=model.get("interval") or None,
            max_data_points=model.get("maxDataPoints"),
            time_from=f"now-{window}s",
            time_to=f"now-{int(relative.get('to', 0))}s",
        )


_RELATIVE = re.compile(r"^now(?:-(\w+?))?(?:/([smhdwMy]))?$")
_ROUNDING = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


def resolve_time(expression: str, now: float, is_end: bool) -> float:
    """A Grafana relative time (`now-7d`, `now/d`, `now-1d/d`) as unix seconds; `/unit` rounds
    down for the start of a range and up for its end, as Grafana's time picker does."""
    match = _RELATIVE.match(expression.strip())
    if not match:
        raise WalkError(f"unsupported time expression {expression!r}")
    offset, unit = match.groups()
    moment = now - (parse_duration(offset) if offset else 0.0)
    if unit:
        size = _ROUNDING.get(unit, 86_400)
        moment = (moment // size) * size + (size if is_end else 0)
        moment = min(moment, now) if is_end else moment
    return moment


def query_context(query: Query, now: float, scrape_interval: str) -> QueryContext:
    """The QueryContext Grafana would use for this query on a dashboard opened at `now`."""
    return QueryContext(
        start=resolve_time(query.time_from, now, is_end=False),
        end=resolve_time(query.time_to, now, is_end=True),
        max_data_points=query.max_data_points or 1000,
        scrape_interval=scrape_interval,
        min_interval=query.min_interval,
        variables=query.variables,
    )


def check_prometheus(query: Query, dataset: QueryDataset, scrape_interval: str = "15s") -> int:
    """Run a PromQL query as its panel or rule would; it must return at least one series.

    Returns the number of series. Raises PromQLError (Prometheus's message) on invalid PromQL and
    AssertionError when the result is empty.
    """
    context = query_context(query, dataset.now, scrape_interval)
    try:
        if query.instant:
            result = dataset.instant(query.expr, context)
        else:
            result = dataset.range(query.expr, context)
    except PromQLError as error:
        raise PromQLError(f"{query.where}: {error}") from None
    if not result:
        raise AssertionError(f"{query.where}: no series for {interpolate(query.expr, context)!r}")
    return len(result)
