"""The generator is deterministic, makes every contract metric, and writes valid backfill input."""

import dataclasses
import hashlib
import io
import itertools
import re
from collections import defaultdict
from pathlib import Path

import pytest

from tools.telemetry import catalog
from tools.telemetry.events import Traffic
from tools.telemetry.openmetrics import write_families
from tools.telemetry.scenario import Scenario
from tools.telemetry.simulate import simulate
from tools.telemetry.storage import stored_families
from tools.telemetry.truth import true_totals

SMALL = Scenario(days=2, users=2, apps=6, app_days=0.25, tempo_interval=60, scrape_interval=300)
_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+) (\S+)$")


@pytest.fixture(scope="module")
def openmetrics_text() -> str:
    out = io.StringIO()
    write_families(stored_families(simulate(SMALL), SMALL), out)
    return out.getvalue()


def _samples(text: str) -> dict[str, list[tuple[float, float]]]:
    series: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        assert match, f"not an OpenMetrics sample line: {line!r}"
        name, labels, value, timestamp = match.groups()
        series[name + (labels or "")].append((float(timestamp), float(value)))
    return series


def test_same_scenario_gives_the_same_bytes(openmetrics_text: str) -> None:
    again = io.StringIO()
    write_families(stored_families(simulate(SMALL), SMALL), again)
    assert (
        hashlib.sha256(again.getvalue().encode()).digest()
        == hashlib.sha256(openmetrics_text.encode()).digest()
    )
    reseeded = simulate(dataclasses.replace(SMALL, seed=SMALL.seed + 1))
    assert reseeded.claude_code_events != simulate(SMALL).claude_code_events


def test_every_contract_metric_is_generated(openmetrics_text: str) -> None:
    generated = {key.split("{", 1)[0] for key in _samples(openmetrics_text)}
    assert catalog.all_series_names() - generated == set()


def test_openmetrics_is_what_promtool_backfills(openmetrics_text: str) -> None:
    assert openmetrics_text.endswith("# EOF\n")
    families = [
        line.split()[2] for line in openmetrics_text.splitlines() if line.startswith("# TYPE")
    ]
    assert len(families) == len(set(families)), (
        "a family appears twice: families must be contiguous"
    )
    for key, samples in _samples(openmetrics_text).items():
        times = [t for t, _ in samples]
        assert times == sorted(times) and len(set(times)) == len(times), f"{key}: out of order"
        # seconds, not milliseconds (which would land in year 58864)
        assert SMALL.start - 86_400 <= times[0] and times[-1] <= SMALL.end + 1, key


def test_a_resumed_session_resets_its_counters(openmetrics_text: str) -> None:
    cost_series = {
        key: samples
        for key, samples in _samples(openmetrics_text).items()
        if key.startswith("claude_code_cost_usage_USD_total{")
    }
    resets = [
        key
        for key, samples in cost_series.items()
        if any(later < earlier for (_, earlier), (_, later) in itertools.pairwise(samples))
    ]
    assert resets, "expected at least one counter reset from a resumed session"


def test_stored_counters_add_up_to_the_true_totals(openmetrics_text: str) -> None:
    """The last value of each process run (before a reset) sums to the events' cost."""
    stored: dict[str, float] = defaultdict(float)
    for key, samples in _samples(openmetrics_text).items():
        if not key.startswith("claude_code_cost_usage_USD_total{"):
            continue
        model = dict(re.findall(r'(\w+)="([^"]*)"', key))["model"]
        for (_, value), (_, following) in zip(samples, [*samples[1:], (0.0, -1.0)], strict=True):
            if following < value:  # end of a run: a reset or the series' last sample
                stored[model] += value
    truth = true_totals(simulate(SMALL)).claude_code_cost_by_model
    assert stored.keys() == truth.keys()
    for model, cost in truth.items():
        assert stored[model] == pytest.approx(cost, rel=1e-9)


def test_start_zero_samples_follow_the_prometheus_feature_flag() -> None:
    def first_values(scenario: Scenario) -> set[float]:
        traffic = simulate(scenario)
        (cost,) = [
            family
            for family in itertools.islice(stored_families(traffic, scenario), 1)
            if family.name == "claude_code_cost_usage_USD"
        ]
        return {series.samples[0][1] for series in cost.series}

    assert first_values(SMALL) == {0.0}
    assert 0.0 not in first_values(dataclasses.replace(SMALL, start_zero_samples=False))


def sessions(traffic: Traffic) -> set[str]:
    return {process.session_id for process in traffic.claude_code_processes}


def test_scale_knobs_raise_cardinality() -> None:
    small = simulate(Scenario(days=1, users=2, apps=1))
    large = simulate(Scenario(days=1, users=10, apps=3))
    assert len(sessions(large)) > 3 * len(sessions(small))
    assert {p.service for p in large.app_processes} > {p.service for p in small.app_processes}


def test_cli_writes_a_dataset(tmp_path: Path) -> None:
    from tools.telemetry.__main__ import main

    out = tmp_path / "dataset.om"
    assert main(["openmetrics", str(out), "--days", "0.5", "--users", "1", "--apps", "1"]) == 0
    assert out.read_text(encoding="utf-8").endswith("# EOF\n")


def stored_cost_by(text: str, label: str) -> dict[str, float]:
    """Claude Code's stored cost counters summed by `label` (each run's last value, as in
    test_stored_counters_add_up_to_the_true_totals); series without the label are left out."""
    stored: dict[str, float] = defaultdict(float)
    for key, samples in _samples(text).items():
        if not key.startswith("claude_code_cost_usage_USD_total{"):
            continue
        value_of = dict(re.findall(r'(\w+)="([^"]*)"', key)).get(label)
        if value_of is None:
            continue
        for (_, value), (_, following) in zip(samples, [*samples[1:], (0.0, -1.0)], strict=True):
            if following < value:
                stored[value_of] += value
    return dict(stored)


@pytest.mark.parametrize(
    ("label", "truth_of"),
    [
        ("query_source", "claude_code_cost_by_query_source"),
        ("agent_name", "claude_code_cost_by_agent"),
        ("service_name", "claude_code_cost_by_service"),
    ],
)
def test_spend_by_query_source_agent_and_service_is_the_truth(
    openmetrics_text: str, label: str, truth_of: str
) -> None:
    truth = getattr(true_totals(simulate(SMALL)), truth_of)
    stored = stored_cost_by(openmetrics_text, label)

    assert stored.keys() == truth.keys() and len(truth) >= 2
    for key, cost in truth.items():
        assert stored[key] == pytest.approx(cost, rel=1e-9), key


def test_desktop_and_cli_sessions_are_mixed_and_add_up_to_the_total() -> None:
    totals = true_totals(simulate(Scenario(days=3, users=4)))

    assert set(totals.claude_code_cost_by_service) == set(catalog.CLAUDE_CODE_SERVICES)
    assert sum(totals.claude_code_cost_by_service.values()) == pytest.approx(
        sum(totals.claude_code_cost_by_model.values()), rel=1e-12
    )
    assert sum(totals.claude_code_cost_by_query_source.values()) == pytest.approx(
        sum(totals.claude_code_cost_by_model.values()), rel=1e-12
    )


EXPECTED_REQUESTS = 1255
EXPECTED_COST = 291.160436


def test_the_2026_attributes_leave_a_seeds_requests_and_costs_as_they_were() -> None:
    """New attributes draw from their own random stream: a seed's spend is unchanged (these are
    the totals of seed 7 before Claude Code's 2026 telemetry was added)."""
    totals = true_totals(simulate(Scenario(days=2, users=2)))

    assert sum(totals.claude_code_requests_by_model.values()) == EXPECTED_REQUESTS
    assert round(sum(totals.claude_code_cost_by_model.values()), 6) == EXPECTED_COST


def test_every_llm_request_span_has_a_parent_and_a_time_to_first_token() -> None:
    traffic = simulate(Scenario(days=1, users=2))
    spans = {(s.trace_id, s.span_id): s for s in traffic.claude_code_spans}
    requests = [s for s in traffic.claude_code_spans if s.name == "claude_code.llm_request"]

    assert len(requests) == true_totals(traffic).claude_code_events_by_name["api_request"]
    for span in traffic.claude_code_spans:
        if span.name != "claude_code.interaction":
            parent = spans[(span.trace_id, span.parent_id)]
            assert parent.start <= span.start and span.end <= parent.end + 1e-6, span.name
    for span in requests:
        assert 0 < int(span.attribute("ttft_ms")) <= int(span.attribute("duration_ms"))
