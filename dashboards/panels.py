"""Small builders every dashboard uses, so each panel is a title, a description, a unit and queries.

Every panel reads its datasource from a template variable (`ds_prometheus`, `ds_loki`,
`ds_tempo`) whose default is the fixed datasource UID, so an exported dashboard imports into
any Grafana and still works unchanged on both targets.

Every LLM dashboard has the source, user, team and model variables (vocabulary/filters.py);
`render()` adds their matchers to every PromQL and LogQL target, so a panel never spells them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from grafana_foundation_sdk.builders import (
    barchart,
    bargauge,
    dashboard,
    gauge,
    logs,
    loki,
    piechart,
    prometheus,
    stat,
    table,
    tempo,
    timeseries,
)
from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import heatmap as heatmap_builders
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as dashboard_models
from grafana_foundation_sdk.models import piechart as piechart_models
from grafana_foundation_sdk.models import prometheus as prometheus_models
from grafana_foundation_sdk.models.common import DataSourceRef

from components.datasources import LOKI_UID, PROMETHEUS_UID, TEMPO_UID
from vocabulary import filters
from vocabulary.windows import OWN_INTERVAL, PICKER_RANGE, Window, observed_increase

__all__ = ["OWN_INTERVAL", "PICKER_RANGE", "Window", "observed_increase"]


@dataclass(frozen=True)
class DatasourceKind:
    """A datasource template variable and the fixed UID it defaults to."""

    type: str
    variable: str
    default_uid: str
    label: str

    @property
    def ref(self) -> DataSourceRef:
        return DataSourceRef(type_val=self.type, uid=f"${{{self.variable}}}")

    def template_variable(self) -> dashboard.DatasourceVariable:
        default = dashboard_models.VariableOption(
            selected=True, text=self.default_uid, value=self.default_uid
        )
        return (
            dashboard.DatasourceVariable(self.variable)
            .label(self.label)
            .type(self.type)
            .current(default)
        )


PROMETHEUS: Final = DatasourceKind("prometheus", "ds_prometheus", PROMETHEUS_UID, "Prometheus")
LOKI: Final = DatasourceKind("loki", "ds_loki", LOKI_UID, "Loki")
TEMPO: Final = DatasourceKind("tempo", "ds_tempo", TEMPO_UID, "Tempo")

FULL_WIDTH: Final = 24
Builder = cogbuilder.Builder[dashboard_models.Panel]


# Queries -------------------------------------------------------------------------------------


def promql(expr: str, legend: str = "__auto", *, instant: bool = False) -> prometheus.Dataquery:
    """A PromQL target; `instant` for totals over the picker's range (`[$__range]`)."""
    query = prometheus.Dataquery().expr(expr).legend_format(legend)
    return query.instant() if instant else query.range()


def promql_table(expr: str) -> prometheus.Dataquery:
    """An instant PromQL target formatted as a table (one row per series)."""
    return (
        prometheus.Dataquery().expr(expr).instant().format(prometheus_models.PromQueryFormat.TABLE)
    )


def logql(expr: str, legend: str | None = None, *, instant: bool = False) -> loki.Dataquery:
    query = loki.Dataquery().expr(expr)
    if legend is not None:
        query = query.legend_format(legend)
    return query.query_type("instant" if instant else "range")


def traceql(query: str, limit: int = 20) -> tempo.Dataquery:
    return tempo.Dataquery().query(query).query_type("traceql").limit(limit)


def _with_targets(panel: Any, targets: Sequence[Any]) -> Any:
    for ref_id, target in zip("ABCDEFGHIJ", targets, strict=False):
        panel = panel.with_target(target.ref_id(ref_id))
    return panel


def _last_value() -> common_builders.ReduceDataOptions:
    return common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False)


def _common(panel: Any, kind: DatasourceKind, title: str, description: str, unit: str) -> Any:
    return panel.title(title).description(description).unit(unit).datasource(kind.ref)


# Panels --------------------------------------------------------------------------------------


def stat_panel(
    title: str,
    description: str,
    unit: str,
    *targets: Any,
    kind: DatasourceKind = PROMETHEUS,
    width: int = 6,
    height: int = 5,
    decimals: int | None = None,
    sparkline: bool = False,
) -> stat.Panel:
    """A single number: the last value of each target."""
    panel = (
        _common(stat.Panel(), kind, title, description, unit)
        .span(width)
        .height(height)
        .reduce_options(_last_value())
        .graph_mode(common.BigValueGraphMode.AREA if sparkline else common.BigValueGraphMode.NONE)
        .color_mode(common.BigValueColorMode.VALUE)
        .text_mode(common.BigValueTextMode.AUTO)
    )
    if decimals is not None:
        panel = panel.decimals(decimals)
    return _with_targets(panel, targets)


def timeseries_panel(
    title: str,
    description: str,
    unit: str,
    *targets: Any,
    kind: DatasourceKind = PROMETHEUS,
    width: int = 12,
    height: int = 8,
    stacked: bool = False,
    interval: str | None = None,
    bars: bool = False,
) -> timeseries.Panel:
    """Lines (or bars) over the picker's range; `interval` fixes the step, e.g. "1d"."""
    legend = (
        common_builders.VizLegendOptions()
        .show_legend(True)
        .display_mode(common.LegendDisplayMode.TABLE)
        .placement(common.LegendPlacement.BOTTOM)
        .calcs(["sum"] if bars else ["mean", "max"])
    )
    panel = (
        _common(timeseries.Panel(), kind, title, description, unit)
        .span(width)
        .height(height)
        .legend(legend)
        .fill_opacity(60 if bars else 10)
        .draw_style(common.GraphDrawStyle.BARS if bars else common.GraphDrawStyle.LINE)
    )
    if stacked:
        panel = panel.stacking(common_builders.StackingConfig().mode(common.StackingMode.NORMAL))
    if interval is not None:
        panel = panel.interval(interval)
    return _with_targets(panel, targets)


def daily_bars(title: str, description: str, unit: str, *targets: Any, width: int = 12) -> Any:
    """One bar per calendar day: pair with `[$__interval]` so each bar is exactly that day."""
    return timeseries_panel(
        title, description, unit, *targets, width=width, stacked=True, interval="1d", bars=True
    )


def table_panel(
    title: str,
    description: str,
    unit: str,
    *targets: Any,
    kind: DatasourceKind = PROMETHEUS,
    width: int = 12,
    height: int = 8,
    sort_by: str | None = None,
    hide: Sequence[str] = ("Time",),
    rename: dict[str, str] | None = None,
) -> table.Panel:
    """Rows from instant queries, merged on their labels; `sort_by` a column, descending."""
    panel = _common(table.Panel(), kind, title, description, unit).span(width).height(height)
    transforms = [{"id": "merge", "options": {}}] if len(targets) > 1 else []
    transforms.append(
        {
            "id": "organize",
            "options": {
                "excludeByName": dict.fromkeys(hide, True),
                "renameByName": rename or {},
            },
        }
    )
    for transform in transforms:
        panel = panel.with_transformation(
            dashboard_models.DataTransformerConfig(
                id_val=transform["id"], options=transform["options"]
            )
        )
    if sort_by is not None:
        panel = panel.sort_by(
            [common_builders.TableSortByFieldState().display_name(sort_by).desc(True)]
        )
    return _with_targets(panel, targets)


def top_bars(
    title: str,
    description: str,
    unit: str,
    *targets: Any,
    width: int = 12,
    height: int = 8,
    kind: DatasourceKind = PROMETHEUS,
) -> bargauge.Panel:
    """Horizontal bars, one per series, for top-N lists."""
    panel = (
        _common(bargauge.Panel(), kind, title, description, unit)
        .span(width)
        .height(height)
        .orientation(common.VizOrientation.HORIZONTAL)
        .display_mode(common.BarGaugeDisplayMode.GRADIENT)
        .reduce_options(_last_value())
    )
    return _with_targets(panel, targets)


def pie_panel(
    title: str,
    description: str,
    unit: str,
    *targets: Any,
    width: int = 8,
    height: int = 8,
    kind: DatasourceKind = PROMETHEUS,
) -> piechart.Panel:
    """Shares of a whole, e.g. cost by model over the picker's range."""
    panel = (
        _common(piechart.Panel(), kind, title, description, unit)
        .span(width)
        .height(height)
        .pie_type(piechart_models.PieChartType.DONUT)
        .reduce_options(_last_value())
    )
    return _with_targets(panel, targets)


def heatmap_panel(
    title: str, description: str, unit: str, *targets: Any, width: int = 12, height: int = 8
) -> heatmap_builders.Panel:
    """A latency heatmap from classic histogram buckets (`sum by (le) (increase(..._bucket))`)."""
    panel = _common(heatmap_builders.Panel(), PROMETHEUS, title, description, unit)
    panel = panel.span(width).height(height)
    return _with_targets(panel, targets)


def logs_panel(
    title: str, description: str, *targets: Any, width: int = FULL_WIDTH, height: int = 10
) -> logs.Panel:
    panel = (
        _common(logs.Panel(), LOKI, title, description, "none")
        .span(width)
        .height(height)
        .show_time(True)
        .wrap_log_message(True)
        .enable_log_details(True)
        .sort_order(common.LogsSortOrder.DESCENDING)
    )
    return _with_targets(panel, targets)


def traces_panel(
    title: str, description: str, *targets: Any, width: int = FULL_WIDTH, height: int = 10
) -> table.Panel:
    """A TraceQL search: a table of matching traces, each linking to its trace view."""
    panel = _common(table.Panel(), TEMPO, title, description, "none").span(width).height(height)
    return _with_targets(panel, targets)


def row(title: str) -> dashboard.Row:
    return dashboard.Row(title)


# Dashboards ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """An optional row heading and the panels under it, laid out left to right."""

    title: str | None
    panels: Sequence[Any]


def build_dashboard(
    uid: str,
    title: str,
    description: str,
    sections: Sequence[Section],
    *,
    kinds: Sequence[DatasourceKind] = (PROMETHEUS,),
    tags: Sequence[str] = (),
    time_from: str = "now-7d",
    filtered: bool = True,
) -> dashboard.Dashboard:
    """`filtered`: offer the source, user, team and model variables (False only for a
    dashboard whose series carry none of those labels, such as the stack's own health)."""
    board = (
        dashboard.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["llm-o11y", *tags])
        .time(time_from, "now")
        .timezone("browser")
        .refresh("1m")
        .readonly()
    )
    for kind in kinds:
        board = board.with_variable(kind.template_variable())
    if filtered:
        for choice in filters.FILTERS:
            board = board.with_variable(filter_variable(choice))
    for section in sections:
        if section.title is not None:
            board = board.with_row(row(section.title))
        for panel in section.panels:
            board = board.with_panel(panel)
    return board


def filter_variable(choice: filters.DashboardFilter) -> dashboard.QueryVariable:
    """A multi-value variable over the recorded spend's label values, "All" (`.*`) by default."""
    every = dashboard_models.VariableOption(selected=True, text="All", value="$__all")
    return (
        dashboard.QueryVariable(choice.variable)
        .label(choice.title)
        .datasource(PROMETHEUS.ref)
        .query(choice.values_query)
        .definition(choice.values_query)
        .refresh(dashboard_models.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(dashboard_models.VariableSort.ALPHABETICAL_ASC)
        .multi(True)
        .include_all(True)
        .all_value(filters.ALL_VALUE)
        .current(every)
    )


_FILTER_BY_DATASOURCE: Final = {
    PROMETHEUS.ref.uid: filters.filtered_promql,
    LOKI.ref.uid: filters.filtered_logql,
}


def _apply_filters(model: dict[str, Any]) -> None:
    """Narrow every PromQL and LogQL target by the dashboard's filter variables, if it has them."""
    variables = {variable["name"] for variable in model.get("templating", {}).get("list", [])}
    if not {choice.variable for choice in filters.FILTERS} <= variables:
        return
    panels = [*model["panels"]]
    panels += [inner for panel in model["panels"] for inner in panel.get("panels", [])]
    for panel in panels:
        for target in panel.get("targets", []):
            datasource = target.get("datasource") or panel.get("datasource") or {}
            apply = _FILTER_BY_DATASOURCE.get(datasource.get("uid", ""))
            if apply is not None and target.get("expr"):
                target["expr"] = apply(target["expr"])


def _layout(panels: list[dict[str, Any]]) -> None:
    """Flow panels left to right, wrapping at the grid's width; rows start a new line.

    Panel ids are stable positions, so links to a panel (`viewPanel=<id>`) survive renders.
    """
    x = y = line_height = 0
    for panel_id, panel in enumerate(panels, start=1):
        panel["id"] = panel_id
        position = panel["gridPos"]
        if panel["type"] == "row":
            y, x, line_height = y + line_height, 0, 0
            position.update(x=0, y=y)
            y += position["h"]
            continue
        if x + position["w"] > FULL_WIDTH:
            y, x, line_height = y + line_height, 0, 0
        position.update(x=x, y=y)
        x += position["w"]
        line_height = max(line_height, position["h"])


def render(board: dashboard.Dashboard) -> dict[str, Any]:
    """The dashboard's JSON model, as Grafana stores it and as Pulumi applies it."""
    model = json.loads(JSONEncoder(sort_keys=True).encode(board.build()))
    _apply_filters(model)
    _layout(model["panels"])
    return model


# More panels ---------------------------------------------------------------------------------


def _transformation(transform_id: str, options: dict[str, Any]) -> Any:
    return dashboard_models.DataTransformerConfig(id_val=transform_id, options=options)


def gauge_panel(
    title: str,
    description: str,
    unit: str,
    *targets: Any,
    kind: DatasourceKind = PROMETHEUS,
    width: int = 6,
    height: int = 5,
    minimum: float = 0,
    maximum: float = 100,
) -> gauge.Panel:
    """A single ratio on a dial, e.g. a percentage between `minimum` and `maximum`."""
    panel = (
        _common(gauge.Panel(), kind, title, description, unit)
        .span(width)
        .height(height)
        .min(minimum)
        .max(maximum)
        .reduce_options(_last_value())
    )
    return _with_targets(panel, targets)


def bar_chart_panel(
    title: str,
    description: str,
    unit: str,
    *targets: Any,
    kind: DatasourceKind = PROMETHEUS,
    width: int = 12,
    height: int = 8,
) -> barchart.Panel:
    """Vertical bars, one per series of instant queries: the reduce transformation turns the
    series into rows (`Field` = the series' display name, then its value)."""
    panel = (
        _common(barchart.Panel(), kind, title, description, unit)
        .span(width)
        .height(height)
        .x_field("Field")
        .show_value(common.VisibilityMode.AUTO)
        .with_transformation(
            _transformation(
                "reduce",
                {"mode": "seriesToRows", "reducers": ["lastNotNull"], "includeTimeField": False},
            )
        )
    )
    return _with_targets(panel, targets)


def log_table_panel(
    title: str,
    description: str,
    unit: str,
    *targets: Any,
    columns: Sequence[str],
    sort_by: str,
    numeric: Sequence[str] = (),
    limit: int = 20,
    width: int = FULL_WIDTH,
    height: int = 10,
) -> table.Panel:
    """Log records as table rows: their labels and structured metadata become columns, the
    `numeric` ones are made numbers, rows sort by `sort_by` (descending) and the first `limit`
    rows show, with only `columns` (in that order) besides the time."""
    transformations = [
        _transformation("extractFields", {"source": "labels", "format": "auto", "replace": False}),
        _transformation(
            "convertFieldType",
            {
                "conversions": [
                    {"targetField": field, "destinationType": "number"} for field in numeric
                ],
                "fields": {},
            },
        ),
        _transformation("sortBy", {"sort": [{"field": sort_by, "desc": True}]}),
        _transformation("limit", {"limitField": limit}),
        _transformation("filterFieldsByName", {"include": {"names": ["Time", *columns]}}),
        _transformation(
            "organize",
            {"indexByName": {name: index for index, name in enumerate(["Time", *columns])}},
        ),
    ]
    panel = _common(table.Panel(), LOKI, title, description, unit).span(width).height(height)
    for transformation in transformations:
        panel = panel.with_transformation(transformation)
    return _with_targets(panel, targets)
