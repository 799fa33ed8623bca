"""The alert rules' PromQL under `promtool test rules`: tests/alert_rules/*.yaml run against the
test mirror `python -m tools.export alerts` writes (with TEAM_BUDGETS added to the default
thresholds, so the per-team rules exist), every rule fires in one case and stays quiet in
another, every rule has a case across a counter reset or a gap, and the cases follow the
thresholds (a changed threshold fails them)."""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from alerts import alert_rules, prometheus_rule_groups
from components.settings import AlertingSettings, AlertThresholds, TeamBudget
from tests.support.external import REPO_ROOT, find_tool
from tools.export import (
    ALERT_RULE_FILE,
    RECORDING_RULE_FILE,
    export_alerts,
    export_recording_rules,
)
from tools.querylab.binaries import PROMETHEUS_HINT
from tools.querylab.prometheus import promtool_test_rules
from vocabulary.pricing import load_pricing

pytestmark = pytest.mark.query

TEST_FILES = sorted((REPO_ROOT / "tests" / "alert_rules").glob("*.yaml"))
TEAM_BUDGETS = {
    "platform": TeamBudget(daily_usd=40.0, monthly_usd=800.0),
    "payments": TeamBudget(daily_usd=20.0, monthly_usd=400.0),
}
TESTED_THRESHOLDS = AlertThresholds(team_budgets=TEAM_BUDGETS)
PROMQL_RULES = [
    r.title for r in alert_rules(TESTED_THRESHOLDS, load_pricing()) if r.datasource == "prometheus"
]
# Files that feed the recorded spend windows directly, without the recording rules.
RECORDED_INPUT_FILES = ("cost_weekly.yaml", "team_budgets_monthly.yaml")
_TOKEN = re.compile(
    r"^(?P<start>_|stale|-?[0-9.e+]+?)(?:(?P<sign>[+-])(?P<step>[0-9.e]+))?(?:x(?P<n>\d+))?$"
)


def _groups() -> Iterator[dict[str, Any]]:
    for path in TEST_FILES:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        yield from document["tests"]


def _cases() -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for group in _groups():
        for case in group.get("alert_rule_test", []):
            yield group, case


def expand(values: str) -> list[float | None]:
    """promtool's expanding notation (`0+5x3 _x2 7`) as samples; None is a missing sample."""
    samples: list[float | None] = []
    for token in values.split():
        match = _TOKEN.match(token)
        assert match, f"unsupported series notation {token!r}"
        start, sign, step, count = match.group("start", "sign", "step", "n")
        repeat = int(count) if count else 0
        if start in ("_", "stale"):
            samples += [None] * max(repeat, 1)
            continue
        delta = float(step or 0) * (-1 if sign == "-" else 1)
        samples += [float(start) + delta * i for i in range(repeat + 1)]
    return samples


def crosses_reset_or_gap(values: str) -> bool:
    """A missing sample after the first one, or a value lower than the one before."""
    samples = expand(values)
    present = [s for s in samples if s is not None]
    first = next(i for i, s in enumerate(samples) if s is not None)
    gap = any(s is None for s in samples[first:])
    reset = any(later < earlier for earlier, later in itertools.pairwise(present))
    return gap or reset


def _mirror(thresholds: AlertThresholds) -> dict[str, Any]:
    settings = AlertingSettings()
    return prometheus_rule_groups(
        alert_rules(thresholds, load_pricing()), settings.team, settings.runbook_base_url
    )


def _run_with(
    directory: Path,
    rule_file_document: dict[str, Any] | None = None,
    test_files: list[Path] = TEST_FILES,
) -> str:
    """Copy test files next to a rule file (default: the exported one with TEAM_BUDGETS) and
    run promtool."""
    promtool = find_tool("promtool", PROMETHEUS_HINT)
    export_recording_rules(directory, load_pricing())
    export_alerts(directory, load_pricing())
    document = rule_file_document or _mirror(TESTED_THRESHOLDS)
    exported = yaml.safe_load((directory / ALERT_RULE_FILE).read_text(encoding="utf-8"))
    # The team budgets add rules and change nothing else in what the export writes.
    assert [g for g in _mirror(AlertThresholds())["groups"]] == exported["groups"]
    (directory / ALERT_RULE_FILE).write_text(yaml.safe_dump(document), "utf-8")
    copies = []
    for path in test_files:
        copies.append(directory / path.name)
        shutil.copyfile(path, copies[-1])
    return promtool_test_rules(promtool, *copies)


def test_every_rule_test_passes_on_the_exported_mirror(tmp_path: Path) -> None:
    output = _run_with(tmp_path)
    assert output.count("SUCCESS") == len(TEST_FILES)


def test_the_test_files_use_the_exported_rule_file() -> None:
    assert TEST_FILES
    for path in TEST_FILES:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        # The week-long cases feed the recorded series directly (cost_weekly.yaml says why).
        recorded = path.name in RECORDED_INPUT_FILES
        expected = [ALERT_RULE_FILE] if recorded else [RECORDING_RULE_FILE, ALERT_RULE_FILE]
        assert document["rule_files"] == expected, path.name


@pytest.mark.parametrize("title", PROMQL_RULES)
def test_every_rule_fires_in_one_case_and_stays_quiet_in_another(title: str) -> None:
    cases = [case for _, case in _cases() if case["alertname"] == title]
    assert any(case["exp_alerts"] for case in cases), f"no case where {title!r} fires"
    assert any(not case["exp_alerts"] for case in cases), f"no case where {title!r} stays quiet"


@pytest.mark.parametrize("title", PROMQL_RULES)
def test_every_rule_has_a_case_across_a_counter_reset_or_a_gap(title: str) -> None:
    groups = [g for g in _groups() if any(c["alertname"] == title for c in g["alert_rule_test"])]
    assert any(
        crosses_reset_or_gap(series["values"]) for g in groups for series in g["input_series"]
    ), f"no case of {title!r} crosses a counter reset or a gap"


def test_every_tested_alert_is_a_rule() -> None:
    tested = {case["alertname"] for _, case in _cases()}
    assert tested <= set(PROMQL_RULES), tested - set(PROMQL_RULES)


def test_the_notation_reader_sees_resets_and_gaps() -> None:
    assert expand("0+5x2 _x2 1 3-1x1") == [0.0, 5.0, 10.0, None, None, 1.0, 3.0, 2.0]
    assert crosses_reset_or_gap("0+1x5 0+1x5")
    assert crosses_reset_or_gap("0+1x5 _x3 9+1x2")
    assert not crosses_reset_or_gap("0+1x10")


@pytest.mark.parametrize(
    ("change", "test_file", "failing_rule"),
    [
        ({"daily_budget_usd": 60.0}, "cost.yaml", "LLM spend over daily budget"),
        ({"session_cost_usd": 35.0}, "cost.yaml", "Claude Code session over cost limit"),
        ({"error_rate_warning_percent": 8.0}, "reliability.yaml", "LLM error rate elevated"),
        ({"no_traffic_minutes": 180}, "traffic.yaml", "No LLM traffic"),
        (
            {"runaway_session_usd_per_hour": 16.0},
            "agents.yaml",
            "Claude Code session running away with cost",
        ),
        (
            {"runaway_subagent_usd_per_hour": 6.5},
            "agents.yaml",
            "Claude Code subagent running away with cost",
        ),
        (
            {
                "team_budgets": {
                    **TEAM_BUDGETS,
                    "platform": TeamBudget(daily_usd=45, monthly_usd=800),
                }
            },
            "team_budgets.yaml",
            "Team LLM spend over daily budget",
        ),
        (
            {
                "team_budgets": {
                    **TEAM_BUDGETS,
                    "payments": TeamBudget(daily_usd=20, monthly_usd=300),
                }
            },
            "team_budgets_monthly.yaml",
            "Team LLM spend over monthly budget",
        ),
    ],
)
def test_the_cases_follow_the_thresholds(
    tmp_path: Path, change: dict[str, Any], test_file: str, failing_rule: str
) -> None:
    document = _mirror(AlertThresholds(**{"team_budgets": TEAM_BUDGETS, **change}))
    selected = [path for path in TEST_FILES if path.name == test_file]
    with pytest.raises(AssertionError, match=re.escape(f"alertname: {failing_rule}")):
        _run_with(tmp_path, document, selected)


def test_export_cli_writes_a_rule_file_promtool_accepts(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tools.export", "alerts", str(tmp_path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    written = tmp_path / ALERT_RULE_FILE
    assert result.stdout.split() == [str(written), str(tmp_path / RECORDING_RULE_FILE)]
    text = written.read_text(encoding="utf-8")
    assert "test mirror" in text and "Grafana does not" in text
    promtool = find_tool("promtool", PROMETHEUS_HINT)
    check = subprocess.run(
        [promtool, "check", "rules", str(written)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr
    default_rules = [
        r for r in alert_rules(AlertThresholds(), load_pricing()) if r.datasource == "prometheus"
    ]
    assert f"{len(default_rules)} rules found" in check.stdout
