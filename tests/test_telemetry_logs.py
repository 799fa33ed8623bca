"""The log side: seed 000's JSONL cost records and Claude Code events as Loki keeps them."""

import json
from datetime import datetime
from pathlib import Path

import pytest

from tools.telemetry import catalog
from tools.telemetry.logs import jsonl_records, loki_entries, write_jsonl
from tools.telemetry.naming import prometheus_label_name
from tools.telemetry.scenario import Scenario
from tools.telemetry.simulate import simulate
from tools.telemetry.truth import true_totals, utc_day

SCENARIO = Scenario(days=1, users=2, apps=2)


def test_jsonl_records_have_seed_000_fields_and_add_up(tmp_path: Path) -> None:
    traffic = simulate(SCENARIO)
    path = tmp_path / "llm-cost.jsonl"
    lines = write_jsonl(traffic, path)
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert lines == len(records) > 0
    assert all(set(record) == set(catalog.JSONL_FIELDS) for record in records)
    cost: dict[tuple[str, str], float] = {}
    for record in records:
        moment = datetime.fromisoformat(record["timestamp"].replace("Z", "+00:00")).timestamp()
        key = (record["model"], utc_day(moment))
        cost[key] = cost.get(key, 0.0) + record["cost_usd"]
    truth = true_totals(traffic).jsonl_cost_by_model_day
    assert cost.keys() == truth.keys()
    for key, value in truth.items():
        assert cost[key] == pytest.approx(value, abs=1e-6)


def test_claude_code_events_arrive_as_loki_keeps_them() -> None:
    traffic = simulate(SCENARIO)
    entries = [
        e
        for e in loki_entries(traffic)
        if e["stream"]["service_name"] in catalog.CLAUDE_CODE_SERVICES
    ]
    assert len(entries) == len(traffic.claude_code_events)
    names = {entry["structured_metadata"]["event_name"] for entry in entries}
    assert names == set(catalog.CLAUDE_CODE_EVENTS)
    for entry in entries:
        metadata = entry["structured_metadata"]
        assert entry["line"] == f"claude_code.{metadata['event_name']}"
        expected = {
            prometheus_label_name(key) for key in catalog.CLAUDE_CODE_EVENTS[metadata["event_name"]]
        }
        assert expected <= set(metadata), metadata["event_name"]
        assert "." not in "".join(metadata), "structured metadata keys have no dots"


def test_jsonl_lines_are_raw_json_bodies() -> None:
    entries = [
        e
        for e in loki_entries(simulate(SCENARIO))
        if e["stream"]["service_name"] == catalog.JSONL_SERVICE
    ]
    assert entries and all(json.loads(entry["line"])["cost_usd"] >= 0 for entry in entries)
    assert len(entries) == len(list(jsonl_records(simulate(SCENARIO))))
