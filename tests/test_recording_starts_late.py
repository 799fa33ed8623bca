"""A range that starts before the recorded series exist: panels read recorded series only, so
they show what was recorded since the rules started (docs/architecture.md): never the raw
series' numbers, never an extrapolation. Here the rules start on the second of three days."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboards import cost_tokens
from tests.support.external import find_tool
from tests.test_spend_agrees import LATE, reported_costs
from tools.querylab.binaries import PROMETHEUS_HINT
from tools.querylab.prometheus import PrometheusServer, QueryContext, build_blocks, start_on_copy
from tools.telemetry.scenario import DAY, Scenario
from tools.telemetry.simulate import simulate
from vocabulary.pricing import load_pricing

pytestmark = pytest.mark.query

SCENARIO = Scenario(days=3, users=2, apps=1, app_days=3, cost_spike=False)
RECORDED_FROM = SCENARIO.start + DAY


@pytest.fixture(scope="module")
def server() -> Iterator[PrometheusServer]:
    prometheus = find_tool("prometheus", PROMETHEUS_HINT)
    promtool = find_tool("promtool", PROMETHEUS_HINT)
    scratch = Path(tempfile.mkdtemp(prefix="llm-o11y-late-rules-"))
    try:
        blocks = scratch / "blocks"
        build_blocks(
            SCENARIO, promtool, blocks, prometheus, load_pricing(), recorded_from=RECORDED_FROM
        )
        running = start_on_copy(blocks, prometheus)
        yield running
        running.stop()
        shutil.rmtree(running.storage.parent, ignore_errors=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def test_a_range_from_before_the_rules_shows_what_was_recorded_since(
    server: PrometheusServer,
) -> None:
    calls = reported_costs(simulate(SCENARIO), SCENARIO.export_interval)
    everything = sum(cost for _, cost, _ in calls)
    since_recording = sum(
        cost for tick, cost, _ in calls if RECORDED_FROM - LATE < tick <= SCENARIO.end - LATE
    )
    assert since_recording > 0 and everything - since_recording > 1.0
    whole = QueryContext(start=SCENARIO.start, end=SCENARIO.end)
    expr = cost_tokens.TOTAL_COST.replace("$__range", f"{int(whole.range_seconds)}s")
    (entry,) = server.query(expr, SCENARIO.end)
    shown = float(entry["value"][1])
    assert shown == pytest.approx(since_recording, rel=0.005)
    assert shown < everything - 1.0
