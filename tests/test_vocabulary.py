"""The vocabulary is the only place that spells a metric name: dashboards, alert rules and the
report take every name from vocabulary/names.py (and every query from its measures)."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.external import REPO_ROOT
from vocabulary import measures, names
from vocabulary.pricing import load_pricing
from vocabulary.recording import COUNTERS, SPEND, prometheus_rule_file, raw_equivalent
from vocabulary.windows import Window

# Modules that query telemetry: each dashboard, each alert rule domain, the report's queries.
CONSUMERS = sorted(
    [
        *(REPO_ROOT / "dashboards").glob("*.py"),
        *(REPO_ROOT / "alerts").glob("*.py"),
        *(REPO_ROOT / "tools" / "report").glob("*.py"),
        REPO_ROOT / "components" / "alerting.py",
    ]
)
# Any LLM telemetry metric as Prometheus names it, known to the vocabulary or not.
METRIC_LIKE = re.compile(
    r"\b(?:claude_code|gen_ai|http_server|traces_spanmetrics|traces_service_graph)_\w+"
    r"|\bllm\w*:[\w:]+"
)
LABEL_NAMES = {
    names.APP_MODEL,
    names.APP_REQUEST_MODEL,
    names.OPERATION,
    names.APP_TOKEN_TYPE,
    "gen_ai_provider_name",
    "http_response_status_code",
    "http_request_method",
    "http_route",
}


def string_literals(path: Path) -> Iterator[tuple[int, str]]:
    """Every string constant of a module except docstrings (prose about the module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ):
            yield node.lineno, node.value


def spelled_names(path: Path) -> list[str]:
    found = []
    for line, text in string_literals(path):
        for match in METRIC_LIKE.finditer(text):
            if match.group(0) not in LABEL_NAMES:
                found.append(f"{path.name}:{line}: {match.group(0)}")
    return found


@pytest.mark.parametrize("path", CONSUMERS, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_no_consumer_spells_a_metric_name(path: Path) -> None:
    assert spelled_names(path) == []


def test_the_check_sees_a_metric_name_in_a_query(tmp_path: Path) -> None:
    module = tmp_path / "panel.py"
    module.write_text(
        '"""A docstring may name claude_code_cost_usage_USD_total."""\n'
        'QUERY = "sum(rate(gen_ai_client_token_usage_sum[5m]))"\n'
        'LABEL = "gen_ai_operation_name"\n'
        "RECORDED = f\"sum_over_time(llm:spend_usd:increase5m{'[1h]'})\"\n",
        encoding="utf-8",
    )
    found = [entry.split(": ", 1)[1] for entry in spelled_names(module)]
    assert found == ["gen_ai_client_token_usage_sum", "llm:spend_usd:increase5m"]


def test_every_recorded_metric_is_a_vocabulary_name() -> None:
    known = set(names.METRICS)
    for counter in COUNTERS:
        base = re.sub(r"_(sum|count|bucket)$", "", counter.metric)
        assert counter.metric in known or base in known, counter.metric


def test_recording_rules_have_valid_names_and_one_group() -> None:
    (group,) = prometheus_rule_file(load_pricing())["groups"]
    records = [rule["record"] for rule in group["rules"]]
    # spend, Claude Code's priced tokens, the apps' tokens
    assert len(records) == len(set(records)) == len(COUNTERS) + 3
    assert all(re.fullmatch(r"llm(_[a-z]+)*:[a-zA-Z_]+:increase5m", r) for r in records)
    assert group["interval"] == "5m"


def test_the_raw_form_of_a_recorded_query_reads_the_raw_series() -> None:
    recorded = (
        "sum by (model) (sum_over_time(llm:claude_code_token_usage_tokens:increase5m"
        '{type="cacheRead"}[$__interval] offset -$__interval))'
    )
    raw = raw_equivalent(recorded, load_pricing())
    assert "llm:" not in raw
    assert 'claude_code_token_usage_tokens_total{type="cacheRead"}[$__interval] offset' in raw
    spend = raw_equivalent(f"sum(sum_over_time({SPEND.record}[1h]))", load_pricing())
    assert "llm:" not in spend and names.CLAUDE_CODE_COST in spend and names.APP_TOKENS in spend
    priced = raw_equivalent(
        f'sum(sum_over_time({names.CLAUDE_CODE_TOKEN_COST_RECORD}{{type=~"input"}}[1h]))',
        load_pricing(),
    )
    assert "llm:" not in priced
    every_type = 'type=~"input|output|cacheRead|cacheCreation"'
    assert f'{names.CLAUDE_CODE_TOKENS}{{{every_type}, type=~"input"}}[1h]' in priced
    assert Window("1h").range() == "[1h]"


@pytest.mark.query
def test_a_window_is_final_before_its_last_minute_arrives(tmp_path: Path) -> None:
    """Late samples: the window recorded at t ends at t - 1m, so samples stamped in the last
    minute (still in flight at t) change nothing; a restart and a session's first export count
    whole."""
    from tests.support.external import find_tool
    from tools.export import RECORDING_RULE_FILE, export_recording_rules
    from tools.querylab.binaries import PROMETHEUS_HINT
    from tools.querylab.prometheus import promtool_test_rules

    export_recording_rules(tmp_path, load_pricing())
    record = names.record_name(names.CLAUDE_CODE_COST)
    cases = {
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    # Everything arrived, up to minute 20.
                    {"series": f'{names.CLAUDE_CODE_COST}{{model="arrived"}}', "values": "0+1x20"},
                    # At minute 10 the sample of minute 10 is still in flight.
                    {"series": f'{names.CLAUDE_CODE_COST}{{model="late"}}', "values": "0+1x9"},
                    # A restart at minute 7: 0..6, then 0, 1, 2, ...
                    {
                        "series": f'{names.CLAUDE_CODE_COST}{{model="restarted"}}',
                        "values": "0+1x6 0+1x13",
                    },
                ],
                "promql_expr_test": [
                    {
                        "expr": record,
                        "eval_time": "10m",
                        "exp_samples": [
                            {"labels": f'{record}{{model="arrived"}}', "value": 5},
                            {"labels": f'{record}{{model="late"}}', "value": 5},
                            # (4m, 9m]: 4 -> 6, restart, 0 -> 2: 2 + 2.
                            {"labels": f'{record}{{model="restarted"}}', "value": 4},
                        ],
                    }
                ],
            }
        ],
        "rule_files": [RECORDING_RULE_FILE],
        "evaluation_interval": "5m",
    }
    test_file = tmp_path / "late.yaml"
    test_file.write_text(json.dumps(cases), encoding="utf-8")
    promtool_test_rules(find_tool("promtool", PROMETHEUS_HINT), test_file)


def test_the_raw_form_reads_both_genai_generations_for_the_apps_tokens() -> None:
    raw = raw_equivalent(measures.tokens_by_kind("[1d]"), load_pricing())
    assert "llm:" not in raw
    assert names.APP_INFERENCE_CACHE_READ in raw and names.APP_TOKENS in raw
