"""The pricing table against what Prometheus has seen.

    python -m tools.pricing unpriced [--prometheus URL] [--range 30d] [--at T]

lists, per source and model, the tokens of models that no `match` in configs/pricing.yaml
covers (the same measure as the "Unpriced models" panel and alert, over the recorded series).
Exit status: 0 every model seen is priced; 1 some are not (listed on stdout); 2 malformed
arguments, or Prometheus unreachable or refusing the query; 3 no token series in the range
(nothing to check: wrong URL or range, or the recording rules have not run).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import yaml

from tools.arguments import OneLineParser, http_url
from tools.report.api import (
    PROMETHEUS_AUTH_ENV,
    ApiClient,
    EndpointError,
    PrometheusApi,
    QueryError,
    parse_credentials,
)
from tools.report.cli import LOCAL_PROMETHEUS
from vocabulary import measures, names
from vocabulary.pricing import PRICING_FILE, PricingError, load_pricing
from vocabulary.windows import Window


def prometheus_range(text: str) -> str:
    """A PromQL duration of whole minutes, hours, days or weeks, such as 30d."""
    if not re.fullmatch(r"[1-9][0-9]*[mhdw]", text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a range: write a whole number and m, h, d or w, such as 30d"
        )
    return text


def moment(text: str) -> int:
    """A Unix time, or an ISO 8601 date or time (UTC unless it names its offset)."""
    if re.fullmatch(r"[0-9]+", text):
        return int(text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time: write a Unix time or an ISO date such as 2026-10-22T00:00Z"
        ) from None
    return int((parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp())


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m tools.pricing",
        description="Check configs/pricing.yaml against the models Prometheus has seen.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    unpriced = commands.add_parser(
        "unpriced",
        help="list the models seen in Prometheus that the pricing table does not price",
    )
    unpriced.add_argument(
        "--prometheus",
        type=http_url,
        default=LOCAL_PROMETHEUS,
        help=f"Prometheus API root URL ({LOCAL_PROMETHEUS}, the local stack's); credentials "
        f"from ${PROMETHEUS_AUTH_ENV}",
    )
    unpriced.add_argument(
        "--range", type=prometheus_range, default="30d", help="how far back to look (30d)"
    )
    unpriced.add_argument(
        "--pricing",
        type=Path,
        default=PRICING_FILE,
        help="the pricing table (configs/pricing.yaml)",
    )
    unpriced.add_argument(
        "--at", type=moment, default=None, help="the end of the range (default: now)"
    )
    unpriced.add_argument("--timeout", type=float, default=60.0, help="seconds per query (60)")
    return parser


def _fail(message: str, status: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return status


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.timeout > 0:
        return _fail(f"--timeout {args.timeout:g} must be a positive number of seconds", 2)
    try:
        table = load_pricing(args.pricing)
    except (OSError, PricingError, ValueError, KeyError, TypeError, yaml.YAMLError) as error:
        return _fail(f"--pricing {args.pricing}: {error}", 2)
    api = PrometheusApi(
        ApiClient(
            "Prometheus",
            args.prometheus,
            parse_credentials(os.environ.get(PROMETHEUS_AUTH_ENV)),
            f"${PROMETHEUS_AUTH_ENV}",
            args.timeout,
        )
    )
    window = Window(args.range)
    seen = measures.increase(names.CLAUDE_CODE_TOKENS, window)
    seen = f"({seen} or {measures.increase(names.APP_TOKENS, window)})"
    now = int(time.time()) if args.at is None else args.at
    try:
        if not api.instant(seen, now):
            return _fail(
                f"no token series in the last {args.range} at {args.prometheus}: nothing to "
                "check (wrong URL or range, or the recording rules have not run yet)",
                3,
            )
        rows = api.instant(measures.unpriced_tokens(window, table), now)
    except (EndpointError, QueryError) as error:
        return _fail(str(error), 2)
    if not rows:
        print(f"every model seen in the last {args.range} is priced in {args.pricing.name}")
        return 0
    print(f"models seen in the last {args.range} that {args.pricing.name} does not price:")
    listed = sorted(
        (row["metric"].get(names.SERVICE, ""), row["metric"].get(names.MODEL, ""), row)
        for row in rows
    )
    for service, model, row in listed:
        tokens = float(row["values"][0][1])
        print(f"  {model or '(no model)'}\t{service}\t{tokens:,.0f} tokens")
    return 1


if __name__ == "__main__":
    sys.exit(main())
