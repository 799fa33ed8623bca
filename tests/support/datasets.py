"""The query tests' datasets: one backfilled Prometheus per scenario per test process, stopped
at exit (tools/querylab builds and caches them; here a missing Prometheus skips, or fails in CI)."""

import atexit
import shutil

from tests.support.external import REPO_ROOT, find_tool
from tools.querylab.binaries import PROMETHEUS_HINT
from tools.querylab.prometheus import QueryDataset, start_dataset
from tools.telemetry.scenario import Scenario
from vocabulary.pricing import load_pricing

# The fixture dataset: a small team over 7 days; the LLM apps (whose classic histograms are most
# of the samples) only over the last day. Big enough for every panel, small enough to backfill fast.
FIXTURE_SCENARIO = Scenario(days=7, users=4, sessions_per_user_per_day=2.0, apps=2, app_days=1)

_DATASETS: dict[Scenario, QueryDataset] = {}


def _stop_all() -> None:
    for dataset in _DATASETS.values():
        dataset.server.stop()
        shutil.rmtree(dataset.server.storage.parent, ignore_errors=True)
    _DATASETS.clear()


atexit.register(_stop_all)


def shared_dataset(scenario: Scenario = FIXTURE_SCENARIO) -> QueryDataset:
    """One backfilled Prometheus per scenario per test process (skips when Prometheus is absent)."""
    if scenario not in _DATASETS:
        prometheus = find_tool("prometheus", PROMETHEUS_HINT)
        promtool = find_tool("promtool", PROMETHEUS_HINT)
        cache = REPO_ROOT / ".cache" / "query-datasets"
        cache.mkdir(parents=True, exist_ok=True)
        _DATASETS[scenario] = start_dataset(scenario, prometheus, promtool, cache, load_pricing())
    return _DATASETS[scenario]
