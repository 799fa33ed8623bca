"""Dashboards: well-formed, portable JSON, and declared on the Grafana provider as exported."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models.dashboard import Dashboard

from dashboards import DASHBOARDS, render_all
from dashboards.panels import (
    LOKI,
    PROMETHEUS,
    TEMPO,
    Section,
    build_dashboard,
    logql,
    logs_panel,
    promql,
    render,
    stat_panel,
    timeseries_panel,
    traceql,
    traces_panel,
)
from tools.export import export_dashboards
from tools.synth import Plan, synth
from vocabulary.pricing import load_pricing

FIXED_UIDS = {"prometheus", "loki", "tempo"}
VARIABLE_UIDS = {"${ds_prometheus}", "${ds_loki}", "${ds_tempo}"}


def sample_dashboard() -> dict[str, Any]:
    wide = [timeseries_panel(f"Series {n}", "d", "short", promql("up")) for n in range(3)]
    return render(
        build_dashboard(
            "sample",
            "Sample",
            "A dashboard built only to test the helpers.",
            [
                Section(None, [stat_panel("Up", "Targets up.", "short", promql("sum(up)"))]),
                Section("Wide", wide),
                Section(
                    "Signals",
                    [
                        logs_panel("Logs", "Recent logs.", logql('{service_name="x"}')),
                        traces_panel("Traces", "Slow traces.", traceql("{ duration > 1s }")),
                    ],
                ),
            ],
            kinds=(PROMETHEUS, LOKI, TEMPO),
        )
    )


def all_panels(model: dict[str, Any]) -> list[dict[str, Any]]:
    panels = []
    for panel in model["panels"]:
        panels.append(panel)
        panels.extend(panel.get("panels", []))
    return panels


def round_trip(model: dict[str, Any]) -> dict[str, Any]:
    register_default_plugins()
    return json.loads(JSONEncoder(sort_keys=True).encode(Dashboard.from_json(model)))


def test_layout_wraps_at_the_grid_width_and_rows_start_new_lines() -> None:
    positions = [(p["type"], p["gridPos"]) for p in sample_dashboard()["panels"]]
    for _, pos in positions:
        assert pos["x"] + pos["w"] <= 24
    stat, row, first, second, third = positions[:5]
    assert stat[1] == {"h": 5, "w": 6, "x": 0, "y": 0}
    assert row == ("row", {"h": 1, "w": 24, "x": 0, "y": 5})
    assert (first[1]["x"], first[1]["y"]) == (0, 6)
    assert (second[1]["x"], second[1]["y"]) == (12, 6)
    assert (third[1]["x"], third[1]["y"]) == (0, 14)  # wrapped: 12 + 12 + 12 > 24


def test_panel_ids_are_unique_and_stable() -> None:
    ids = [p["id"] for p in sample_dashboard()["panels"]]
    assert ids == list(range(1, len(ids) + 1))


def test_datasource_variables_default_to_the_fixed_uids() -> None:
    variables = {v["name"]: v for v in sample_dashboard()["templating"]["list"]}
    assert variables["ds_prometheus"]["current"]["value"] == "prometheus"
    assert variables["ds_loki"]["current"]["value"] == "loki"
    assert variables["ds_tempo"]["current"]["value"] == "tempo"
    datasources = {name for name, v in variables.items() if v["type"] == "datasource"}
    assert datasources == {"ds_prometheus", "ds_loki", "ds_tempo"}


def test_sample_round_trips_through_the_sdk_decoder() -> None:
    model = sample_dashboard()
    assert round_trip(model) == model


DASHBOARD_UIDS = [spec.uid for spec in DASHBOARDS]


@pytest.fixture(scope="module")
def rendered() -> dict[str, dict[str, Any]]:
    return render_all(load_pricing())


@pytest.mark.parametrize("uid", DASHBOARD_UIDS)
def test_every_panel_has_a_title_description_and_unit(
    rendered: dict[str, dict[str, Any]], uid: str
) -> None:
    for panel in all_panels(rendered[uid]):
        if panel["type"] == "row":
            assert panel["title"]
            continue
        assert panel["title"], panel
        assert len(panel.get("description", "")) >= 20, panel["title"]
        assert panel["fieldConfig"]["defaults"].get("unit"), panel["title"]


@pytest.mark.parametrize("uid", DASHBOARD_UIDS)
def test_exported_json_round_trips_and_uses_only_known_datasources(
    rendered: dict[str, dict[str, Any]], uid: str
) -> None:
    model = rendered[uid]
    assert model["uid"] == uid
    assert round_trip(model) == model
    uids = set(re.findall(r'"uid": "([^"]*)"', json.dumps(model)))
    assert uids - {uid} <= FIXED_UIDS | VARIABLE_UIDS


def test_dashboard_and_folder_uids_are_unique() -> None:
    assert len(set(DASHBOARD_UIDS)) == len(DASHBOARD_UIDS)
    folder_uids = [spec.folder.uid for spec in DASHBOARDS]
    assert set(folder_uids).isdisjoint(DASHBOARD_UIDS)


def test_export_writes_what_pulumi_applies(tmp_path: Path) -> None:
    written = export_dashboards(tmp_path, load_pricing())
    assert sorted(p.name for p in written) == sorted(f"{uid}.json" for uid in DASHBOARD_UIDS)
    plan: Plan = synth("local")
    declared = {
        json.loads(d.inputs["configJson"])["uid"]: d
        for d in plan.of_type("grafana:oss/dashboard:Dashboard")
    }
    assert sorted(declared) == sorted(DASHBOARD_UIDS)
    folders = {f.inputs["uid"] for f in plan.of_type("grafana:oss/folder:Folder")}
    for path in written:
        exported = json.loads(path.read_text(encoding="utf-8"))
        dashboard = declared[exported["uid"]]
        assert json.loads(dashboard.inputs["configJson"]) == exported
        assert dashboard.provider == "local-grafana-provider"
        assert dashboard.inputs["folder"] in folders
