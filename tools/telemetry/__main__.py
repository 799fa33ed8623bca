"""Write generated datasets: `python -m tools.telemetry openmetrics out.om --users 50 --days 30`.

Prints how many samples or lines were written and how long it took, so the same command serves
benchmarks (a real team's cardinality) and quick fixtures.
"""

import argparse
import json
import sys
import time

from tools.arguments import OneLineParser, above, at_least, output_file
from tools.telemetry.logs import write_jsonl, write_loki_entries
from tools.telemetry.openmetrics import write_openmetrics
from tools.telemetry.scenario import Scenario
from tools.telemetry.simulate import simulate
from tools.telemetry.storage import stored_families
from tools.telemetry.truth import true_totals


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m tools.telemetry",
        description="Generate seeded LLM telemetry: backfill input, log records, true totals.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "output",
        choices=("openmetrics", "jsonl", "loki", "totals"),
        help="openmetrics: promtool backfill input; jsonl: JSONL cost log; loki: log entries "
        "as Loki stores them; totals: the true totals as JSON",
    )
    parser.add_argument("path", type=output_file, nargs="?", help="file to write (totals: stdout)")
    defaults = Scenario()
    parser.add_argument("--seed", type=int, default=defaults.seed, help="random seed")
    parser.add_argument("--days", type=above(0), default=defaults.days, help="days of data")
    parser.add_argument(
        "--users", type=at_least(0, int), default=defaults.users, help="Claude Code users"
    )
    parser.add_argument(
        "--sessions-per-user-per-day",
        type=at_least(0),
        default=defaults.sessions_per_user_per_day,
        help="mean Claude Code sessions per user per working day",
    )
    parser.add_argument(
        "--apps",
        type=at_least(0, int),
        default=defaults.apps,
        help="instrumented LLM apps; 6 covers every generation of the GenAI conventions",
    )
    parser.add_argument(
        "--app-requests-per-hour",
        type=above(0),
        default=defaults.app_requests_per_hour,
        help="peak requests per hour per app",
    )
    parser.add_argument(
        "--app-days", type=above(0), default=None, help="only the last N days have app traffic"
    )
    parser.add_argument(
        "--no-start-zero-samples",
        action="store_true",
        help="model Prometheus without --enable-feature=created-timestamp-zero-ingestion",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.output != "totals" and args.path is None:
        parser.error(f"{args.output} needs a file path")
    if args.app_days is not None and args.app_days > args.days:
        parser.error(f"--app-days {args.app_days:g} must not exceed --days {args.days:g}")
    scenario = Scenario(
        seed=args.seed,
        days=args.days,
        users=args.users,
        sessions_per_user_per_day=args.sessions_per_user_per_day,
        apps=args.apps,
        app_requests_per_hour=args.app_requests_per_hour,
        app_days=args.app_days,
        start_zero_samples=not args.no_start_zero_samples,
    )
    began = time.monotonic()
    traffic = simulate(scenario)
    if args.output == "totals":
        totals = true_totals(traffic)
        print(
            json.dumps({key: _jsonable(value) for key, value in totals.__dict__.items()}, indent=2)
        )
        return 0
    writers = {
        "openmetrics": lambda: write_openmetrics(stored_families(traffic, scenario), args.path),
        "jsonl": lambda: write_jsonl(traffic, args.path),
        "loki": lambda: write_loki_entries(traffic, args.path),
    }
    count = writers[args.output]()
    sessions = len({process.session_id for process in traffic.claude_code_processes})
    print(
        f"{args.output}: {count} {'samples' if args.output == 'openmetrics' else 'lines'} "
        f"({sessions} Claude Code sessions, {len(traffic.app_requests)} app requests) "
        f"in {time.monotonic() - began:.1f}s -> {args.path}"
    )
    return 0


def _jsonable(value: object) -> object:
    if isinstance(value, dict):
        return {
            "|".join(map(str, k)) if isinstance(k, tuple) else str(k): v for k, v in value.items()
        }
    return value


if __name__ == "__main__":
    sys.exit(main())
