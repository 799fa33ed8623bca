"""Time every dashboard's PromQL on a real Prometheus: `python -m tools.bench` (`make bench`).

Generates a team's telemetry (default: 50 Claude Code users and two LLM apps over 30 days, the
same generator as the query tests), backfills it and the recording rules' series once into
.cache/bench-datasets/ (reused while the generator, scenario and rules are unchanged), starts
Prometheus on it and runs each dashboard's PromQL queries as its panels would over the last
24 h, 7 d and 30 d, both ways in the same run: as shipped (recorded series) and the same panels
from the raw series (vocabulary.recording.raw_equivalent). Prints, per dashboard and range, the
total wall time of its queries (each recorded query's best of --repeat passes, so a cold page
cache does not count; the raw queries, seconds to minutes each, --raw-repeat passes), the raw
time and the ratio, the slowest query, and one evaluation of every alert and recording rule.
`--json FILE` writes the numbers. LogQL and TraceQL queries are counted but not timed: no Loki
or Tempo runs here. This prints numbers; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from tools.arguments import OneLineParser, above, at_least
from tools.querylab.binaries import CACHE_BIN, PROMETHEUS_HINT, REPO_ROOT, locate
from tools.querylab.prometheus import (
    PromQLError,
    QueryContext,
    QueryDataset,
    cached_blocks,
    start_on_copy,
)
from tools.querylab.walker import Query, dashboard_queries
from tools.telemetry.scenario import DAY, Scenario
from tools.telemetry.truth import Totals

if TYPE_CHECKING:
    from vocabulary.pricing import PricingTable

CACHE = REPO_ROOT / ".cache" / "bench-datasets"
RAW_QUERY_TIMEOUT = 900.0
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
    found = locate(name)
    if found is None:
        sys.exit(f"{name} not found: {PROMETHEUS_HINT}")
    if Path(found).parent != CACHE_BIN:
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


Results = dict[str, dict[str, tuple[Timing, Timing]]]  # uid -> range -> (recorded, raw)


def ratio(recorded: float, raw: float) -> str:
    return f"{raw / recorded:.0f}x" if recorded > 0 else "-"


def print_report(results: Results, skipped: dict[str, int], counts: dict[str, int]) -> None:
    names = list(next(iter(results.values()))) if results else []
    header = f"{'dashboard':<20} {'PromQL':>6} {'other':>5} " + " ".join(
        f"{name + ' rec':>8} {name + ' raw':>8} {'x':>5}" for name in names
    )
    print("\nseconds per dashboard (sum of its queries), recorded series vs the same panels raw")
    print(header)
    print("-" * len(header))
    for uid, by_range in results.items():
        cells = " ".join(
            f"{rec.total:>8.3f} {raw.total:>8.3f} {ratio(rec.total, raw.total):>5}"
            for rec, raw in (by_range[name] for name in names)
        )
        print(f"{uid:<20} {counts[uid]:>6} {skipped[uid]:>5} {cells}")
    longest = names[-1] if names else ""
    print(f"\nslowest query per dashboard over {longest} (recorded; raw):")
    for uid, by_range in results.items():
        recorded, raw = by_range[longest]
        if recorded.seconds:
            where, seconds = recorded.slowest()
            raw_where, raw_seconds = raw.slowest()
            print(
                f"  {uid:<20} {seconds:>7.3f} s  {short(where, 45):<45} "
                f"{raw_seconds:>7.3f} s  {short(raw_where, 45)}"
            )
    failures = [
        (uid, name, where, error)
        for uid, by_range in results.items()
        for name, pair in by_range.items()
        for timing in pair
        for where, error in timing.failures.items()
    ]
    for uid, name, where, error in failures:
        print(f"FAILED {uid} {name} {short(where)}: {error}")


def load_average(when: str) -> str:
    """The machine's load (as `uptime` prints it): other work slows every query alike."""
    one, five, fifteen = os.getloadavg()
    return f"load average {when}: {one:.2f}, {five:.2f}, {fifteen:.2f} ({os.cpu_count()} cores)"


def range_names(text: str) -> tuple[tuple[str, float], ...]:
    """`--ranges 7d,30d`: those entries of RANGES, in RANGES' order."""
    known = dict(RANGES)
    chosen = {part.strip() for part in text.split(",") if part.strip()}
    if not chosen or not chosen <= known.keys():
        raise argparse.ArgumentTypeError(
            f"{text!r}: --ranges takes a comma-separated list of {', '.join(known)}"
        )
    return tuple(entry for entry in RANGES if entry[0] in chosen)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m tools.bench",
        description="Time each dashboard's PromQL over 24 h, 7 d and 30 d on a real Prometheus.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--users", type=at_least(1, int), default=50, help="Claude Code users")
    parser.add_argument("--days", type=above(0), default=30.0, help="days of data")
    parser.add_argument("--apps", type=at_least(0, int), default=2, help="instrumented LLM apps")
    parser.add_argument("--seed", type=int, default=7, help="random seed")
    parser.add_argument(
        "--repeat", type=at_least(1, int), default=2, help="passes per range (best kept)"
    )
    parser.add_argument(
        "--raw-repeat",
        type=at_least(1, int),
        default=1,
        help="passes per range over the raw queries (best kept)",
    )
    parser.add_argument(
        "--ranges",
        type=range_names,
        default=",".join(name for name, _ in RANGES),  # argparse parses a string default
        help="the time ranges to time, comma-separated",
    )
    parser.add_argument("--verbose", action="store_true", help="print each query's time")
    parser.add_argument("--dashboard", action="append", help="only these UIDs (repeatable)")
    parser.add_argument("--json", metavar="FILE", type=Path, help="also write the numbers here")
    return parser


def time_rules(dataset: QueryDataset, table: PricingTable) -> dict[str, float]:
    """Seconds of one evaluation of every PromQL alert rule and recording rule, at the end of
    the data (what the ruler pays each interval)."""
    from alerts import alert_rules
    from components.settings import AlertThresholds
    from vocabulary.recording import recording_rules

    rules = [(f"record {r.record}", r.expr) for r in recording_rules(table)]
    rules += [
        (f"alert {r.title}", r.query)
        for r in alert_rules(AlertThresholds(), table)
        if r.datasource == "prometheus"
    ]
    seconds = {}
    for name, expr in rules:
        began = time.perf_counter()
        dataset.server.query(expr, dataset.end)
        seconds[name] = time.perf_counter() - began
    return seconds


def series_count(dataset: QueryDataset) -> int:
    result = dataset.server.query(
        f'count(last_over_time({{__name__=~".+"}}[{int(dataset.scenario.days * DAY + 3600)}s]))',
        dataset.end,
    )
    return int(float(result[0]["value"][1])) if result else 0


def as_json(results: Results, scenario: Scenario, series: int) -> dict[str, object]:
    document: dict[str, object] = {
        uid: {
            name: {"seconds": round(rec.total, 4), "raw_seconds": round(raw.total, 4)}
            for name, (rec, raw) in by_range.items()
        }
        for uid, by_range in results.items()
    }
    document["dataset"] = {"users": scenario.users, "days": scenario.days, "series": series}
    return document


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from components.datasources import SCRAPE_INTERVAL
    from dashboards import render_all
    from vocabulary.pricing import load_pricing
    from vocabulary.recording import raw_equivalent

    table = load_pricing()
    scenario = Scenario(seed=args.seed, days=args.days, users=args.users, apps=args.apps)
    prometheus, promtool = find_binary("prometheus"), find_binary("promtool")
    blocks, samples = cached_blocks(scenario, promtool, prometheus, CACHE, table, announce=print)
    # A raw query over a month of a large team can take minutes; it is timed, not cut short.
    server = start_on_copy(blocks, prometheus, timeout=300, query_timeout=RAW_QUERY_TIMEOUT)
    dataset = QueryDataset(scenario, Totals(), server, samples)
    try:
        queries = list(dashboard_queries(render_all(table)))
        uids = sorted({q.where.split(" / ")[0].removeprefix("dashboard ") for q in queries})
        uids = [uid for uid in uids if not args.dashboard or uid in args.dashboard]
        print(
            f"{samples:,} samples, {args.users} users, {args.days:g} days; Prometheus {server.url}"
        )
        print(load_average("before timing"), flush=True)
        results: Results = {}
        skipped: dict[str, int] = {}
        counts: dict[str, int] = {}
        for uid in uids:
            mine = [q for q in queries if q.where.startswith(f"dashboard {uid} /")]
            promql = [q for q in mine if q.kind == "prometheus"]
            raw_promql = [replace(q, expr=raw_equivalent(q.expr, table)) for q in promql]
            counts[uid], skipped[uid] = len(promql), len(mine) - len(promql)
            began = time.monotonic()
            results[uid] = {}
            for name, span in args.ranges:
                if args.verbose:
                    print(f"  {uid} over {name}:", flush=True)
                pair = tuple(
                    best_timing(
                        [
                            run_once(dataset, chosen, span, SCRAPE_INTERVAL, args.verbose and not n)
                            for n in range(repeat)
                        ]
                    )
                    for chosen, repeat in ((promql, args.repeat), (raw_promql, args.raw_repeat))
                )
                results[uid][name] = (pair[0], pair[1])
            print(f"  {uid}: {time.monotonic() - began:.0f} s", flush=True)
        print(load_average("after timing"))
        print_report(results, skipped, counts)
        rules = time_rules(dataset, table)
        print(
            f"\none evaluation of each rule at the end of the data ({len(rules)} rules, "
            f"{sum(rules.values()):.3f} s in all); slowest:"
        )
        for name, seconds in sorted(rules.items(), key=lambda item: -item[1])[:8]:
            print(f"  {seconds:>7.3f} s  {name}")
        if args.json is not None:
            document = as_json(results, scenario, series_count(dataset))
            args.json.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
            print(f"wrote {args.json}")
    finally:
        server.stop()
        shutil.rmtree(server.storage.parent, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
