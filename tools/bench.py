"""Time every dashboard's PromQL on a real Prometheus: `python -m tools.bench` (`make bench`).

Generates a team's telemetry (default: 50 Claude Code users and two LLM apps over 30 days, the
same generator as the query tests), backfills it once into .cache/bench-datasets/ (reused while
the generator and scenario are unchanged), starts Prometheus on it and runs each dashboard's
PromQL queries as its panels would over the last 24 h, 7 d and 30 d. Prints, per dashboard and
range, the total wall time of its queries (each query's best of --repeat passes, so a cold page
cache does not count), and the slowest query. LogQL and TraceQL queries are counted but not
timed: no Loki or Tempo runs here. This prints numbers; it asserts nothing.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

from tests.support.external import CACHE_BIN, REPO_ROOT
from tests.support.prometheus import (
    PromQLError,
    QueryContext,
    QueryDataset,
    cached_blocks,
    start_on_copy,
)
from tests.support.walker import Query, dashboard_queries
from tools.telemetry.scenario import DAY, Scenario
from tools.telemetry.truth import Totals

CACHE = REPO_ROOT / ".cache" / "bench-datasets"
RANGES: tuple[tuple[str, float], ...] = (("24h", DAY), ("7d", 7 * DAY), ("30d", 30 * DAY))


@dataclass
class Timing:
    """Seconds per query of one dashboard at one range, and the queries that failed."""

    seconds: dict[str, float] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(self.seconds.values())

    def slowest(self) -> tuple[str, float]:
        where = max(self.seconds, key=self.seconds.__getitem__)
        return where, self.seconds[where]


def find_binary(name: str) -> str:
    """The pinned build in .cache/bin (make tools), else the one on PATH."""
    cached = CACHE_BIN / name
    if cached.is_file() and os.access(cached, os.X_OK):
        return str(cached)
    found = shutil.which(name)
    if found is None:
        sys.exit(f"{name} not found: run `make tools` (or apt-get install -y prometheus)")
    print(f"note: {name} from PATH ({found}), not the pinned build in {CACHE_BIN}")
    return found


def context(query: Query, end: float, span: float, scrape_interval: str) -> QueryContext:
    return QueryContext(
        start=end - span,
        end=end,
        max_data_points=query.max_data_points or 1000,
        scrape_interval=scrape_interval,
        min_interval=query.min_interval,
        variables=query.variables,
    )


def run_once(
    dataset: QueryDataset,
    queries: Sequence[Query],
    span: float,
    scrape_interval: str,
    verbose: bool = False,
) -> Timing:
    """One pass over the queries; a query that fails (or times out after 60 s) is recorded."""
    timing = Timing()
    for query in queries:
        window = context(query, dataset.end, span, scrape_interval)
        began = time.perf_counter()
        try:
            if query.instant:
                dataset.instant(query.expr, window)
            else:
                dataset.range(query.expr, window)
        except (PromQLError, OSError) as error:
            timing.failures[query.where] = str(error)[:200]
            continue
        timing.seconds[query.where] = time.perf_counter() - began
        if verbose:
            print(f"    {timing.seconds[query.where]:8.3f} s  {short(query.where, 90)}", flush=True)
    return timing


def best_timing(runs: Sequence[Timing]) -> Timing:
    """Per query, the fastest of the passes: the cost of the query, not of a cold cache."""
    best = Timing(failures=runs[0].failures)
    for where in runs[0].seconds:
        best.seconds[where] = min(run.seconds.get(where, math.inf) for run in runs)
    return best


def short(where: str, width: int = 60) -> str:
    panel = where.split(" / panel ", 1)[-1]
    return panel if len(panel) <= width else panel[: width - 1] + "…"


def print_report(
    results: dict[str, dict[str, Timing]], skipped: dict[str, int], counts: dict[str, int]
) -> None:
    names = [name for name, _ in RANGES]
    header = f"{'dashboard':<22} {'PromQL':>6} {'other':>5} " + " ".join(
        f"{name + ' (s)':>9}" for name in names
    )
    print("\n" + header)
    print("-" * len(header))
    for uid, by_range in results.items():
        cells = " ".join(f"{by_range[name].total:>9.3f}" for name in names)
        print(f"{uid:<22} {counts[uid]:>6} {skipped[uid]:>5} {cells}")
    print("\nslowest query per dashboard over 30d:")
    for uid, by_range in results.items():
        if by_range["30d"].seconds:
            where, seconds = by_range["30d"].slowest()
            print(f"  {uid:<22} {seconds:>7.3f} s  {short(where)}")
    failures = [
        (uid, name, where, error)
        for uid, by_range in results.items()
        for name, timing in by_range.items()
        for where, error in timing.failures.items()
    ]
    for uid, name, where, error in failures:
        print(f"FAILED {uid} {name} {short(where)}: {error}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.bench",
        description="Time each dashboard's PromQL over 24 h, 7 d and 30 d on a real Prometheus.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--users", type=int, default=50, help="Claude Code users")
    parser.add_argument("--days", type=float, default=30.0, help="days of data")
    parser.add_argument("--apps", type=int, default=2, help="instrumented LLM apps")
    parser.add_argument("--seed", type=int, default=7, help="random seed")
    parser.add_argument("--repeat", type=int, default=2, help="passes per range (best kept)")
    parser.add_argument("--verbose", action="store_true", help="print each query's time")
    parser.add_argument("--dashboard", action="append", help="only these UIDs (repeatable)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from components.datasources import SCRAPE_INTERVAL
    from dashboards import render_all

    scenario = Scenario(seed=args.seed, days=args.days, users=args.users, apps=args.apps)
    prometheus, promtool = find_binary("prometheus"), find_binary("promtool")
    blocks, samples = cached_blocks(scenario, promtool, prometheus, CACHE, announce=print)
    server = start_on_copy(blocks, prometheus, timeout=300)
    dataset = QueryDataset(scenario, Totals(), server, samples)
    try:
        queries = list(dashboard_queries(render_all()))
        uids = sorted({q.where.split(" / ")[0].removeprefix("dashboard ") for q in queries})
        uids = [uid for uid in uids if not args.dashboard or uid in args.dashboard]
        print(
            f"{samples:,} samples, {args.users} users, {args.days:g} days; Prometheus {server.url}"
        )
        results: dict[str, dict[str, Timing]] = {}
        skipped: dict[str, int] = {}
        counts: dict[str, int] = {}
        for uid in uids:
            mine = [q for q in queries if q.where.startswith(f"dashboard {uid} /")]
            promql = [q for q in mine if q.kind == "prometheus"]
            counts[uid], skipped[uid] = len(promql), len(mine) - len(promql)
            began = time.monotonic()
            results[uid] = {}
            for name, span in RANGES:
                if args.verbose:
                    print(f"  {uid} over {name}:", flush=True)
                runs = [
                    run_once(dataset, promql, span, SCRAPE_INTERVAL, args.verbose and not n)
                    for n in range(args.repeat)
                ]
                results[uid][name] = best_timing(runs)
            print(f"  {uid}: {time.monotonic() - began:.0f} s", flush=True)
        print_report(results, skipped, counts)
    finally:
        server.stop()
        shutil.rmtree(server.storage.parent, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
