"""`promtool test rules` through the harness: a passing unit test passes, a wrong expectation fails
with promtool's own report."""

from pathlib import Path

import pytest

from tests.support.external import find_tool
from tools.querylab.binaries import PROMETHEUS_HINT
from tools.querylab.prometheus import promtool_test_rules

pytestmark = pytest.mark.query

RULES = """\
groups:
  - name: cost
    rules:
      - alert: DailyCostHigh
        expr: sum(increase(claude_code_cost_usage_USD_total[1d])) > 50
        labels: {severity: warning}
"""


def _write_test(folder: Path, expected_alerts: str) -> Path:
    (folder / "rules.yml").write_text(RULES, encoding="utf-8")
    test = folder / "rules_test.yml"
    test.write_text(
        f"""\
rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'claude_code_cost_usage_USD_total{{model="m", session_id="s"}}'
        values: '0+0.1x1500'
    alert_rule_test:
      - eval_time: 1440m
        alertname: DailyCostHigh
        exp_alerts: {expected_alerts}
""",
        encoding="utf-8",
    )
    return test


def test_a_passing_rule_test_passes(tmp_path: Path) -> None:
    promtool = find_tool("promtool", PROMETHEUS_HINT)
    test = _write_test(tmp_path, "[{exp_labels: {severity: warning}}]")
    assert "SUCCESS" in promtool_test_rules(promtool, test)


def test_a_wrong_expectation_fails_with_promtools_report(tmp_path: Path) -> None:
    promtool = find_tool("promtool", PROMETHEUS_HINT)
    test = _write_test(tmp_path, "[]")
    with pytest.raises(AssertionError, match="DailyCostHigh"):
        promtool_test_rules(promtool, test)
