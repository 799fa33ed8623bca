"""`python -m tools.report`: the command line of the monthly report and the daily digest.

Exit status: 0 when the report was written; 1 when a query failed part-way; 2 for invalid
arguments (a bad month or day, an unknown stack) and for an unreachable or unauthorised
endpoint, which are checked before any real query runs; 3 when the period holds no cost series
at all (a wrong URL or an empty Prometheus must not read as "we spent nothing").
"""

import argparse
import os
import sys
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path

from components.settings import AlertThresholds
from tools.arguments import OneLineParser, above, at_least, http_url, output_directory
from tools.report import queries
from tools.report.api import (
    LOKI_AUTH_ENV,
    PROMETHEUS_AUTH_ENV,
    ApiClient,
    EndpointError,
    LokiApi,
    PrometheusApi,
    QueryError,
    parse_credentials,
)
from tools.report.collect import collect
from tools.report.data import ReportData
from tools.report.figures import build_figures
from tools.report.period import Period, PeriodError, day_period, month_period, parse_as_of
from tools.report.render import to_html, to_markdown
from tools.report.sections import Options, document
from vocabulary.pricing import load_pricing

LOCAL_PROMETHEUS = "http://127.0.0.1:9090"
LOCAL_LOKI = "http://127.0.0.1:3100"
# The alert rules' default daily budget (components/settings.py, seed 002's "cost > $50/day").
DAILY_BUDGET_USD = Decimal(str(AlertThresholds.model_fields["daily_budget_usd"].default))


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m tools.report",
        description=(
            "Write an LLM cost report for one UTC month (--month) or a digest of one UTC day "
            "(--day) from the stack's Prometheus (and Loki): a self-contained HTML page with "
            "charts and a Markdown summary. docs/report.md explains every section and query."
        ),
        epilog=(
            "Credentials: USER:TOKEN is HTTP basic auth (Grafana Cloud: the instance id and a "
            "token with metrics:read / logs:read), 'Bearer TOKEN' or a bare TOKEN a bearer "
            f"token; read from ${PROMETHEUS_AUTH_ENV} and ${LOKI_AUTH_ENV} unless the flags are "
            "given, and never printed. Exit status: 0 written, 1 a query failed, 2 bad "
            "arguments or an unreachable/unauthorised endpoint. Example: python -m tools.report "
            "--month 2026-04 --out reports/"
        ),
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--month", metavar="YYYY-MM", help="report on this UTC calendar month")
    which.add_argument(
        "--day", metavar="YYYY-MM-DD", help="daily digest of this UTC day (charts its week)"
    )
    parser.add_argument(
        "--prometheus",
        metavar="URL",
        type=http_url,
        default=LOCAL_PROMETHEUS,
        help="Prometheus API root (Grafana Cloud: https://prometheus-prod-NN-....grafana.net"
        "/api/prom; default: %(default)s)",
    )
    parser.add_argument(
        "--loki",
        metavar="URL",
        type=http_url,
        nargs="?",
        const=LOCAL_LOKI,
        default=None,
        help="also query Loki for Claude Code requests, API errors and tools; without a URL: "
        f"{LOCAL_LOKI} (Grafana Cloud: https://logs-prod-NNN.grafana.net)",
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        type=output_directory,
        default=Path("reports"),
        help="folder to write into (default: %(default)s)",
    )
    parser.add_argument(
        "--budget",
        metavar="USD",
        default=None,
        help="budget for the whole period (month or day); default: the alerts' daily budget "
        f"(${DAILY_BUDGET_USD:.2f}) x the period's days",
    )
    parser.add_argument(
        "--stack",
        metavar="NAME",
        default=None,
        help="take the budget from stacks/Pulumi.NAME.yaml's alert thresholds: monthlyBudgetUsd "
        "for a month, dailyBudgetUsd for a day (--budget overrides it)",
    )
    parser.add_argument(
        "--top",
        type=at_least(1, int),
        default=10,
        help="how many users and day-over-day changes to list (default: %(default)s)",
    )
    parser.add_argument(
        "--prometheus-auth",
        metavar="CREDENTIALS",
        default=None,
        help=f"Prometheus credentials (default: ${PROMETHEUS_AUTH_ENV}; a flag shows in ps)",
    )
    parser.add_argument(
        "--loki-auth",
        metavar="CREDENTIALS",
        default=None,
        help=f"Loki credentials (default: ${LOKI_AUTH_ENV}; a flag shows in ps)",
    )
    parser.add_argument(
        "--as-of",
        metavar="TIME",
        default=None,
        help="evaluate as if it were this ISO 8601 UTC time (default: now); days after it "
        "are not queried and a running day counts up to it",
    )
    parser.add_argument(
        "--timeout",
        type=above(0),
        default=60.0,
        help="seconds to wait for each query (default: %(default)s)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    return parser


def _fail(message: str, status: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return status


def _period(args: argparse.Namespace) -> Period:
    as_of = parse_as_of(args.as_of)
    return month_period(args.month, as_of) if args.month else day_period(args.day, as_of)


def stack_thresholds(stack: str) -> AlertThresholds:
    """The alert thresholds stacks/Pulumi.<stack>.yaml sets (defaults for the keys it omits)."""
    from tools.synth import StackConfigError, load_stack_file

    try:
        document = load_stack_file(stack)
    except (OSError, ValueError, StackConfigError) as error:
        raise PeriodError(f"--stack {stack!r}: {error}") from None
    config = document.get("config") or {}
    alerting = config.get("llm-o11y:alerting") or {}
    try:
        return AlertThresholds.model_validate(alerting.get("thresholds") or {})
    except ValueError as error:
        message = f"--stack {stack!r}: invalid llm-o11y:alerting.thresholds: {error}"
        raise PeriodError(message) from None


def _budget(text: str | None, period: Period, stack: str | None = None) -> tuple[Decimal, str]:
    if text is None and stack is not None:
        thresholds = stack_thresholds(stack)
        if period.kind == "month":
            amount = Decimal(str(thresholds.monthly_budget_usd))
            return amount, f"${amount:.2f}, the monthly budget of stack {stack} (monthlyBudgetUsd)"
        amount = Decimal(str(thresholds.daily_budget_usd))
        return amount, f"${amount:.2f}, the daily budget of stack {stack} (dailyBudgetUsd)"
    if text is None:
        days = len(period.days)
        default = DAILY_BUDGET_USD * days
        return default, (
            f"${DAILY_BUDGET_USD:.2f}/day (the alert rules' default daily budget) x {days} "
            f"day{'s' if days > 1 else ''}; "
            "set it with --budget"
        )
    try:
        amount = Decimal(text.lstrip("$"))
    except InvalidOperation:
        raise PeriodError(f"--budget {text!r} is not an amount in USD such as 1500") from None
    if not amount.is_finite() or amount <= 0:
        raise PeriodError(f"--budget {text!r} must be a positive amount in USD")
    return amount, f"${amount:.2f} for the period (--budget)"


def has_cost_series(data: ReportData) -> bool:
    """Whether any spend was recorded in the period, even $0: no series at all means the
    report would measure nothing, not that nothing was spent."""
    return any(
        data.daily.get(query.name) is not None and bool(data.daily[query.name].days())
        for query in (queries.CLAUDE_CODE_COST, queries.APP_COST)
    )


def _clients(args: argparse.Namespace) -> tuple[PrometheusApi, LokiApi | None]:
    prometheus_auth = args.prometheus_auth or os.environ.get(PROMETHEUS_AUTH_ENV)
    prometheus = PrometheusApi(
        ApiClient(
            "Prometheus",
            args.prometheus,
            parse_credentials(prometheus_auth),
            f"${PROMETHEUS_AUTH_ENV} or --prometheus-auth",
            args.timeout,
        )
    )
    loki = None
    if args.loki:
        loki_auth = args.loki_auth or os.environ.get(LOKI_AUTH_ENV)
        loki = LokiApi(
            ApiClient(
                "Loki",
                args.loki,
                parse_credentials(loki_auth),
                f"${LOKI_AUTH_ENV} or --loki-auth",
                args.timeout,
            )
        )
    return prometheus, loki


def _write(out: Path, stem: str, html_text: str, markdown: str) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    html_path, markdown_path = out / f"{stem}.html", out / f"{stem}.md"
    html_path.write_text(html_text, encoding="utf-8")
    markdown_path.write_text(markdown, encoding="utf-8")
    return html_path, markdown_path


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        period = _period(args)
        budget, budget_source = _budget(args.budget, period, args.stack)
    except PeriodError as error:
        return _fail(str(error), 2)
    began = time.monotonic()

    def progress(line: str) -> None:
        if not args.quiet:
            print(f"report: {line} ({time.monotonic() - began:.1f}s)", file=sys.stderr, flush=True)

    prometheus, loki = _clients(args)
    try:
        for api in (prometheus, loki):
            if api is not None:
                api.check(min(args.timeout, 10.0))
        data = collect(period, prometheus, loki, progress)
    except EndpointError as error:
        return _fail(str(error), 2)
    except QueryError as error:
        return _fail(str(error), 1)
    if not has_cost_series(data):
        return _fail(
            f"no cost series in {period.label} at {args.prometheus}: no LLM telemetry reached "
            "this Prometheus (check the URL, the credentials and the period)",
            3,
        )
    progress("rendering")
    options = Options(budget, budget_source, args.top, load_pricing())
    report = document(build_figures(data), options)
    stem = f"cost-report-{period.label}" if period.kind == "month" else f"digest-{period.label}"
    paths = _write(args.out, stem, to_html(report), to_markdown(report))
    for path in paths:
        print(path)
    return 0
