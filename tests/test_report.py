"""The cost report (tools/report): its totals against the generator's truth on a real Prometheus
loaded with a synthetic month, its day buckets, its HTML in headless Chromium, and its command
line (help, bad dates, unreachable and unauthorised endpoints)."""

import base64
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.support.datasets import shared_dataset
from tests.support.external import REPO_ROOT, find_tool
from tests.support.grammars import parse_queries
from tools.querylab.ports import free_port
from tools.querylab.prometheus import QueryDataset
from tools.report import queries
from tools.report.api import ApiClient, PrometheusApi, parse_credentials
from tools.report.cli import build_parser, main
from tools.report.collect import _batches, collect
from tools.report.data import Daily, ReportData
from tools.report.figures import build_figures, cache_savings, projection
from tools.report.money import usd, usd_fine
from tools.report.period import (
    Period,
    day_of_timestamp,
    day_period,
    month_period,
    parse_as_of,
)
from tools.report.render import to_html, to_markdown
from tools.report.sections import SECTIONS, Options, document
from tools.telemetry.scenario import Scenario
from tools.telemetry.simulate import APP_PROFILES, simulate
from vocabulary.pricing import load_pricing

# A 30-day month (April 2026) of a three-person team; the three LLM apps (two operations) run
# only on the last three days, because their classic histograms are most of a dataset's samples.
# The stack's own metrics every 2 minutes: the report does not read them.
MONTH = Scenario(
    start=datetime(2026, 4, 1, tzinfo=UTC).timestamp(),
    days=30,
    users=3,
    apps=3,
    app_days=3,
    scrape_interval=120.0,
    tempo_interval=120.0,
)
AFTER_THE_MONTH = datetime(2026, 5, 2, tzinfo=UTC)
SECTION_TITLES = (
    "Summary",
    "Daily cost",
    "Projection against budget",
    "Cost and tokens by model",
    "Cost by team",
    "Cost and tokens by app, operation and tool",
    "Tokens over time",
    "Top 10 users",
    "Cost per request and per 1K tokens",
    "Cache savings",
    "Errors and P95 latency",
    "Largest day-over-day changes",
    "Queries",
)
CHROMIUM_HINT = "install Chromium (apt-get install -y chromium)"
# Set to a path to refresh the README's sample image from the Chromium test.
SAMPLE_ENV = "LLM_O11Y_REPORT_SAMPLE"


# --- the synthetic month and its truth ---------------------------------------------------------


@pytest.fixture(scope="module")
def month() -> QueryDataset:
    return shared_dataset(MONTH)


def _collect(dataset: QueryDataset, period: Period) -> ReportData:
    client = ApiClient("Prometheus", dataset.server.url, None, "none")
    return collect(period, PrometheusApi(client), None, lambda _line: None)


@pytest.fixture(scope="module")
def april(month: QueryDataset) -> ReportData:
    return _collect(month, month_period("2026-04", AFTER_THE_MONTH))


class Truth:
    """What the generator's events add up to, per day, model, user and token type."""

    def __init__(self, dataset: QueryDataset) -> None:
        totals = dataset.totals
        self.cost_by_day: dict[str, float] = defaultdict(float)
        self.cost_by_model: dict[str, float] = defaultdict(float)
        for costs in (totals.claude_code_cost_by_model_day, totals.app_cost_by_model_day):
            for (model, day), cost in costs.items():
                self.cost_by_day[day] += cost
                self.cost_by_model[model] += cost
        self.tokens_by_type: dict[str, int] = defaultdict(int)
        names = {"cacheRead": "cache read", "cacheCreation": "cache write"}
        for tokens in (totals.claude_code_tokens_by_type_model, totals.app_tokens_by_type_model):
            for (kind, _model), amount in tokens.items():
                self.tokens_by_type[names.get(kind, kind)] += amount
        traffic = simulate(dataset.scenario)
        self.cost_by_user: dict[str, float] = defaultdict(float)
        # (team, cost_center): Claude Code by its laptop's resource attributes, apps by theirs.
        self.cost_by_team: dict[tuple[str, str], float] = defaultdict(float)
        cost_centers = {profile.team: profile.cost_center for profile in APP_PROFILES}
        for team, cost in totals.app_cost_by_team.items():
            self.cost_by_team[(team, cost_centers[team])] += cost
        self.cost_by_team[("", "")] = sum(totals.app_cost_by_model_day.values(), 0.0) - sum(
            totals.app_cost_by_team.values(), 0.0
        )
        self.cache_tokens: dict[tuple[str, str], int] = defaultdict(int)
        for event in traffic.claude_code_events:
            if event.name == "api_request":
                model = str(event.attribute("model"))
                self.cost_by_user[event.process.user.email] += float(event.attribute("cost_usd"))
                user = event.process.user
                team = (user.team, user.cost_center)
                self.cost_by_team[team] += float(event.attribute("cost_usd"))
                self.cache_tokens[(model, "read")] += int(event.attribute("cache_read_tokens"))
                self.cache_tokens[(model, "write")] += int(event.attribute("cache_creation_tokens"))
        self.app_calls = len(traffic.app_requests)
        self.app_failed_calls = sum(totals.app_llm_errors_by_type.values())
        self.processes = totals.claude_code_processes
        self.traffic = traffic

    @property
    def total(self) -> float:
        return sum(self.cost_by_day.values())


@pytest.fixture(scope="module")
def truth(month: QueryDataset) -> Truth:
    return Truth(month)


# --- totals against the truth ------------------------------------------------------------------


@pytest.mark.query
def test_month_total_and_cost_per_model_match_the_truth(april: ReportData, truth: Truth) -> None:
    figures = build_figures(april)
    total = figures.cost.total(figures.days)
    assert total is not None
    assert float(total) == pytest.approx(truth.total, rel=0.01)
    by_model = figures.cost.by("model").totals(figures.days)
    assert {key[0] for key in by_model} == set(truth.cost_by_model)
    for model, cost in truth.cost_by_model.items():
        assert float(by_model[(model,)]) == pytest.approx(cost, rel=0.01), model


@pytest.mark.query
def test_cost_by_team_matches_the_truth_and_is_shown(april: ReportData, truth: Truth) -> None:
    figures = build_figures(april)
    by_team = figures.team_cost.totals(figures.days)
    assert {team for team, _ in truth.cost_by_team} == {"platform", "payments", ""}
    assert by_team.keys() == truth.cost_by_team.keys()
    for team, cost in truth.cost_by_team.items():
        assert float(by_team[team]) == pytest.approx(cost, rel=0.01), team
    options = Options(Decimal(1000), "test budget", 10, load_pricing())
    markdown = to_markdown(document(figures, options))
    section = markdown.split("## Cost by team", 1)[1].split("\n## ", 1)[0]
    for team, cost_center in truth.cost_by_team:
        assert f"| {team or '(no team)'} | {cost_center or '—'} |" in section


@pytest.mark.query
def test_cost_per_user_tokens_and_calls_match_the_truth(april: ReportData, truth: Truth) -> None:
    figures = build_figures(april)
    by_user = figures.cost.by("user").where("user", bool).totals(figures.days)
    assert {key[0] for key in by_user} == set(truth.cost_by_user)
    for user, cost in truth.cost_by_user.items():
        assert float(by_user[(user,)]) == pytest.approx(cost, rel=0.01), user
    by_type = figures.tokens.by("type").totals(figures.days)
    for kind, amount in truth.tokens_by_type.items():
        assert float(by_type[(kind,)]) == pytest.approx(amount, rel=0.01), kind
    calls = figures.calls.total(figures.days)
    assert calls is not None
    assert float(calls) == pytest.approx(truth.app_calls, rel=0.01)
    failed_calls = figures.calls.where("error", bool).total(figures.days)
    assert failed_calls is not None
    assert float(failed_calls) == pytest.approx(truth.app_failed_calls, rel=0.05)
    sessions = figures.sessions.total(figures.days)
    assert sessions is not None
    # A session counter goes 0 -> 1 within a short series, so increase()'s extrapolation to the
    # window's end (half a sample interval) weighs more here than on cost: +1.1 % measured.
    assert float(sessions) == pytest.approx(truth.processes, rel=0.02)


@pytest.mark.query
def test_every_day_lands_on_its_own_day(april: ReportData, truth: Truth) -> None:
    """Each day is evaluated at its end over [1d]: a midnight point covers the day that ended.
    The spike (one user's runaway Opus session on April 29) must appear on the 29th, not the
    30th; days without any samples are "no data" (None), not zero."""
    figures = build_figures(april)
    for day in figures.days:
        measured = figures.cost.day_total(day)
        expected = truth.cost_by_day.get(day.isoformat())
        if expected is None:
            assert measured is None, day
        else:
            assert measured is not None, day
            assert float(measured) == pytest.approx(expected, rel=0.02, abs=0.05), day
    spike, after = (
        figures.cost.day_total(date(2026, 4, 29)),
        figures.cost.day_total(date(2026, 4, 30)),
    )
    assert spike is not None and after is not None
    assert spike > 5 * after
    assert None in (figures.cost.day_total(day) for day in figures.days), "a day without data"


@pytest.mark.query
def test_cache_savings_match_the_events_priced_by_the_pricing_table(
    april: ReportData, truth: Truth
) -> None:
    pricing = load_pricing()
    savings = {s.model: s for s in cache_savings(build_figures(april), pricing)}
    assert savings
    for model, saving in savings.items():
        price = pricing.price_of(model)
        assert price is not None, model
        reads, writes = truth.cache_tokens[(model, "read")], truth.cache_tokens[(model, "write")]
        expected = (
            reads * (price.input - price.cache_read) - writes * (price.cache_write - price.input)
        ) / 1e6
        assert saving.net is not None
        assert float(saving.net) == pytest.approx(expected, rel=0.01), model


@pytest.mark.query
def test_daily_digest_covers_its_day_and_charts_its_week(month: QueryDataset, truth: Truth) -> None:
    digest = _collect(month, day_period("2026-04-29", AFTER_THE_MONTH))
    figures = build_figures(digest)
    assert figures.days == [date(2026, 4, 29)]
    assert figures.trend_days == [date(2026, 4, 23) + timedelta(days=n) for n in range(7)]
    total = figures.cost.total(figures.days)
    assert total is not None
    assert float(total) == pytest.approx(truth.cost_by_day["2026-04-29"], rel=0.01)
    document_text = to_markdown(document(figures, _options(Decimal(50))))
    assert "04-28 → 04-29" in document_text  # changes into the digest's day only
    assert "04-27 → 04-28" not in document_text


@pytest.mark.query
def test_a_running_month_counts_up_to_as_of_and_projects_the_rest(
    month: QueryDataset, truth: Truth
) -> None:
    as_of = datetime(2026, 4, 15, 12, tzinfo=UTC)
    running = _collect(month, month_period("2026-04", as_of))
    figures = build_figures(running)
    buckets = running.period.buckets()
    assert len(buckets) == 15 and buckets[-1].seconds == 12 * 3600
    cutoff = as_of.timestamp()
    expected = sum(
        float(e.attribute("cost_usd"))
        for e in truth.traffic.claude_code_events
        if e.name == "api_request" and e.time <= cutoff
    )
    spent = figures.cost.total(figures.days)
    assert spent is not None
    assert float(spent) == pytest.approx(expected, rel=0.01)
    projected = projection(figures, Decimal(1500))
    assert projected.projected == spent / (Decimal("14.5") / Decimal(30))


# --- the written report ------------------------------------------------------------------------


@pytest.mark.query
def test_cli_writes_html_and_markdown_with_every_section(
    month: QueryDataset, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--prometheus", month.server.url, "--month", "2026-04", "--out", str(tmp_path)]
    assert main([*argv, "--as-of", AFTER_THE_MONTH.isoformat()]) == 0
    captured = capsys.readouterr()
    html_path, markdown_path = (Path(line) for line in captured.out.splitlines())
    assert "report: [1/13] Claude Code cost (prometheus)" in captured.err
    markdown = markdown_path.read_text(encoding="utf-8")
    html_text = html_path.read_text(encoding="utf-8")
    for title in SECTION_TITLES:
        assert f"## {title}\n" in markdown, title
        assert f"<h2>{title}</h2>" in html_text, title
    # Saturday April 4 had no sessions and no app traffic: "no data", never $0.00.
    assert "| 2026-04-04 | no data | no data | no data | no data | no data |" in markdown
    # Daily cost, budget, by model, by team, tokens over time, top users, errors and latency.
    assert html_text.count('src="data:image/png;base64,') == 7
    assert "http://" not in html_text.replace(month.server.url, "")  # nothing fetched from outside


def _render(html_path: Path, out: Path, size: str) -> str:
    """Screenshot and DOM of `html_path` in headless Chromium; returns the dumped DOM."""
    chromium = find_tool("chromium", CHROMIUM_HINT)
    with tempfile.TemporaryDirectory(prefix="llm-o11y-chromium-") as profile:
        flags = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--window-size={size}",
            "--virtual-time-budget=5000",
        ]
        url = html_path.resolve().as_uri()
        shot = subprocess.run(
            [chromium, *flags, f"--screenshot={out}", url],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert shot.returncode == 0, shot.stderr[-2000:]
        dom = subprocess.run(
            [chromium, *flags, "--dump-dom", url],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert dom.returncode == 0, dom.stderr[-2000:]
    return dom.stdout


# Appended to a copy of the report: after load, records which sections are missing or have no
# height and which images failed to decode, where --dump-dom can read it.
_VERDICT_SCRIPT = """<script>
window.addEventListener("load", () => {
  const missing = %s.filter((id) => {
    const element = document.getElementById(id);
    return !element || element.getBoundingClientRect().height === 0;
  });
  const broken = [...document.images].filter((i) => !(i.complete && i.naturalWidth > 0));
  const verdict = {missing, broken: broken.map((i) => i.alt), images: document.images.length};
  document.body.setAttribute("data-verdict", JSON.stringify(verdict));
});
</script>"""


@pytest.mark.query
def test_html_report_renders_every_section_in_headless_chromium(
    april: ReportData, tmp_path: Path
) -> None:
    figures = build_figures(april)
    report = document(figures, _options(Decimal(1500)))
    anchors = [section.anchor for section in report.sections]
    page = to_html(report)
    checked = tmp_path / "checked.html"
    script = _VERDICT_SCRIPT % json.dumps(anchors)
    checked.write_text(page.replace("</body>", script + "</body>"), encoding="utf-8")
    dom = _render(checked, tmp_path / "full.png", "1280,9000")
    start = dom.index("data-verdict=") + len("data-verdict=") + 1
    verdict = json.loads(dom[start : dom.index('"', start)].replace("&quot;", '"'))
    assert verdict == {"missing": [], "broken": [], "images": 7}
    image = Image.open(tmp_path / "full.png").convert("RGB")
    assert image.size == (1280, 9000)
    colours = image.getcolors(maxcolors=1_000_000)
    assert colours is None or len(colours) > 50, "the screenshot is (nearly) one colour"
    sample = os.environ.get(SAMPLE_ENV)
    if sample:
        page_file = tmp_path / "report.html"
        page_file.write_text(page, encoding="utf-8")
        _render(page_file, Path(sample), "1280,1800")


def _options(budget: Decimal) -> Options:
    return Options(budget, "test budget", 10, load_pricing())


# --- the command line --------------------------------------------------------------------------


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        status = main(argv)
    except SystemExit as exit_:
        status = int(exit_.code or 0)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_help_documents_every_option() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tools.report", "--help"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for action in build_parser()._actions:
        assert action.help, action.dest
        for option in action.option_strings:
            assert option in result.stdout, option
    for word in ("LLM_O11Y_PROMETHEUS_AUTH", "LLM_O11Y_LOKI_AUTH", "Exit status", "x the period"):
        assert word in result.stdout


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--month", "2026-13"], "--month '2026-13' is not a month"),
        (["--month", "April"], "--month 'April' is not a month"),
        (["--day", "2026-02-30"], "--day '2026-02-30' is not a date"),
        (["--day", "30/04/2026"], "--day '30/04/2026' is not a date"),
        (["--month", "2999-01"], "2999-01 has not started yet"),
        (["--month", "2026-04", "--as-of", "yesterday"], "--as-of 'yesterday' is not"),
        (["--month", "2026-04", "--budget", "lots"], "--budget 'lots' is not an amount"),
        (["--month", "2026-04", "--day", "2026-04-01"], "not allowed with argument"),
        ([], "one of the arguments --month --day is required"),
    ],
)
def test_bad_dates_and_arguments_fail_with_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = _run([*argv, "--prometheus", "http://127.0.0.1:9"], capsys)
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("error: "), err
    assert message in err


def test_unreachable_prometheus_fails_before_any_work_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    status, out, err = _run(
        ["--prometheus", url, "--month", "2026-04", "--out", str(tmp_path)], capsys
    )
    assert status == 2
    assert err.count("\n") == 1
    assert err.startswith(f"error: cannot reach Prometheus at {url}: ")
    assert out == "" and not list(tmp_path.iterdir())


# --- a recording HTTP endpoint (for auth and for Loki, which has no binary here) ----------------


class _Endpoint(BaseHTTPRequestHandler):
    """Answers like Prometheus/Loki: 401 without the expected Authorization header; queries get
    `answer(path, params)`; every request is recorded."""

    expected_auth: str | None = None
    seen: list[tuple[str, dict[str, str], str | None]]
    answer: Any = None

    def do_POST(self) -> None:
        from urllib.parse import parse_qsl

        length = int(self.headers.get("Content-Length", 0))
        params = dict(parse_qsl(self.rfile.read(length).decode()))
        auth = self.headers.get("Authorization")
        self.seen.append((self.path, params, auth))
        if self.expected_auth is not None and auth != self.expected_auth:
            self._reply(401, {"status": "error", "error": "authentication error"})
            return
        self._reply(200, {"status": "success", "data": type(self).answer(self.path, params)})

    def _reply(self, code: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *_args: Any) -> None:
        return


@contextlib.contextmanager
def _endpoint(expected_auth: str | None, answer: Any) -> Iterator[tuple[str, list]]:
    seen: list[tuple[str, dict[str, str], str | None]] = []
    handler = type("Handler", (_Endpoint,), {"expected_auth": expected_auth, "seen": seen})
    handler.answer = staticmethod(answer)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def _empty_vector(_path: str, _params: dict[str, str]) -> dict[str, Any]:
    return {"resultType": "vector", "result": []}


def test_unauthorised_endpoint_fails_fast_and_never_prints_the_token(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    expected = "Basic " + base64.b64encode(b"123456:glc_right").decode()
    with _endpoint(expected, _empty_vector) as (url, seen):
        monkeypatch.setenv("LLM_O11Y_PROMETHEUS_AUTH", "123456:glc_wrong")
        status, _out, err = _run(
            ["--prometheus", url, "--month", "2026-04", "--out", str(tmp_path)], capsys
        )
    assert status == 2
    assert err == (
        f"error: Prometheus at {url} refused the credentials (HTTP 401); set "
        "$LLM_O11Y_PROMETHEUS_AUTH or --prometheus-auth\n"
    )
    assert "glc_wrong" not in err and len(seen) == 1  # failed on the first, cheap query
    assert seen[0][2] == "Basic " + base64.b64encode(b"123456:glc_wrong").decode()


def test_credentials_are_basic_or_bearer_and_never_shown() -> None:
    basic = parse_credentials("123456:glc_token")
    assert basic is not None and basic.kind == "basic"
    assert basic.header == "Basic " + base64.b64encode(b"123456:glc_token").decode()
    bearer = parse_credentials("Bearer abc")
    assert bearer is not None and (bearer.kind, bearer.header) == ("bearer", "Bearer abc")
    bare = parse_credentials("glc_abc")
    assert bare is not None and bare.header == "Bearer glc_abc"
    assert parse_credentials("") is None and parse_credentials(None) is None
    assert "glc_token" not in repr(basic) and "glc_token" not in str(basic)


def _zero_spend(path: str, params: dict[str, str]) -> dict[str, Any]:
    """Prometheus with spend series that recorded $0 (an idle team): not an empty database."""
    if "llm:spend_usd" not in params.get("query", "") or "start" not in params:
        return _empty_vector(path, params)
    start, end, step = int(float(params["start"])), int(float(params["end"])), int(params["step"])
    points = [[t, "0"] for t in range(start, end + 1, step)]
    return {"resultType": "matrix", "result": [{"metric": {"model": "sonnet"}, "values": points}]}


def _loki_answer(path: str, params: dict[str, str]) -> dict[str, Any]:
    """Two `api_request` events per day for Sonnet; Prometheus recorded $0 spend."""
    if not path.startswith("/loki/"):
        return _zero_spend(path, params)
    if path.endswith("/labels"):
        return ["service_name"]  # type: ignore[return-value]
    if 'api_request" [' not in params["query"] or "count_over_time" not in params["query"]:
        return {"resultType": "matrix", "result": []}
    start, end = int(params["start"]) // 10**9, int(params["end"]) // 10**9
    points = [[t, "2"] for t in range(start, end + 1, int(params["step"]))]
    return {"resultType": "matrix", "result": [{"metric": {"model": "sonnet"}, "values": points}]}


def test_loki_results_reach_the_report(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Loki's API with nanosecond times, week-long range queries and `values` as seconds: the
    Claude Code request count is read from it (the figures themselves come from Prometheus)."""
    with _endpoint(None, _loki_answer) as (url, seen):
        argv = ["--prometheus", url, "--loki", url, "--month", "2026-04", "--out", str(tmp_path)]
        status, _out, err = _run([*argv, "--as-of", "2026-05-01T00:00:00Z", "--quiet"], capsys)
    assert status == 0, err
    loki_ranges = [params for path, params, _ in seen if path == "/loki/api/v1/query_range"]
    assert loki_ranges and all(p["step"] == "86400" for p in loki_ranges)
    days = max((int(p["end"]) - int(p["start"])) // 10**9 // 86400 + 1 for p in loki_ranges)
    assert days == 7  # Loki refuses long queries: a week per request
    markdown = (tmp_path / "cost-report-2026-04.md").read_text(encoding="utf-8")
    assert "| all | $0.00 | 60 |" in markdown  # 2 requests x 30 days, $0 recorded in Prometheus
    assert "needs --loki" not in markdown


@pytest.mark.query
def test_logql_queries_parse_with_the_official_grammar() -> None:
    loki = [q.expr("1d") for q in queries.ALL_QUERIES if q.source == "loki"]
    results = parse_queries("logql", loki)
    assert [r.message for r in results if not r.ok] == []


# --- arithmetic and periods --------------------------------------------------------------------


def test_money_is_exact_and_rounded_half_even_once() -> None:
    assert usd(Decimal("0.125")) == "$0.12" and usd(Decimal("0.135")) == "$0.14"
    assert usd(Decimal("-0.5")) == "-$0.50" and usd(Decimal("1234567.891")) == "$1,234,567.89"
    assert usd(None) == "no data" and usd_fine(Decimal("0.00425")) == "$0.0042"
    daily = Daily(("model",))
    for day in range(1, 11):  # ten times 0.1 + 0.2 adds up exactly, unlike floats
        daily.add(date(2026, 4, day), ("m",), Decimal("0.1"))
        daily.add(date(2026, 4, day), ("m",), Decimal("0.2"))
    assert daily.total(date(2026, 4, d) for d in range(1, 11)) == Decimal("3.0")
    assert daily.total([date(2026, 4, 20)]) is None


def test_a_part_of_a_table_is_zero_where_another_source_has_no_data() -> None:
    calls = Daily(("app", "error"))
    calls.add(date(2026, 4, 1), ("claude-code", ""), Decimal(5))
    calls.add(date(2026, 4, 2), ("support-bot", ""), Decimal(7))
    failed_calls = calls.where("error", bool)  # no failures on a day with calls: zero
    assert failed_calls.day_total(date(2026, 4, 2)) == 0
    apps = calls.only("app", lambda app: app != "claude-code")  # Claude Code's day: no app data
    assert apps.day_total(date(2026, 4, 1)) is None
    assert apps.day_total(date(2026, 4, 2)) == 7


def test_an_empty_period_says_no_data_not_zero() -> None:
    period = month_period("2026-04", AFTER_THE_MONTH)
    empty = ReportData(period, "http://prometheus", None, {}, {}, {})
    markdown = to_markdown(document(build_figures(empty), _options(Decimal(1500))))
    assert "| Total cost | no data |" in markdown
    assert "| Projected for the period | no data |" in markdown
    assert "| 2026-04-15 | no data | no data |" in markdown
    assert "$0.00 |" not in markdown
    assert markdown.count("\n## ") == len(SECTIONS)


def test_day_buckets_end_at_midnight_and_a_running_day_ends_at_as_of() -> None:
    midnight = datetime(2026, 5, 1, tzinfo=UTC).timestamp()
    assert day_of_timestamp(midnight) == date(2026, 4, 30)
    assert day_of_timestamp(midnight + 1) == date(2026, 5, 1)
    as_of = parse_as_of("2026-04-10T06:00:00Z")
    buckets = month_period("2026-04", as_of).buckets()
    assert [b.window for b in buckets] == ["1d"] * 9 + ["21600s"]
    assert buckets[0].end == datetime(2026, 4, 2, tzinfo=UTC).timestamp()
    batches = _batches(buckets, 7)
    assert [len(batch) for batch in batches] == [7, 2, 1]
    assert len(month_period("2028-02", as_of.replace(year=2028, month=3)).days) == 29
    digest = day_period("2026-04-09", as_of)
    assert digest.trend_days[0] == date(2026, 4, 3) and digest.days == [date(2026, 4, 9)]


def test_an_empty_prometheus_fails_with_one_line_not_a_zero_report(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with _endpoint(None, _empty_vector) as (url, _seen):
        argv = ["--prometheus", url, "--month", "2026-04", "--out", str(tmp_path), "--quiet"]
        status, out, err = _run([*argv, "--as-of", "2026-05-01T00:00:00Z"], capsys)
    assert status == 3 and out == ""
    assert err == (
        f"error: no cost series in 2026-04 at {url}: no LLM telemetry reached this Prometheus "
        "(check the URL, the credentials and the period)\n"
    )
    assert not list(tmp_path.iterdir())


def test_with_stack_the_budget_is_the_stacks(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from tools.report.cli import stack_thresholds

    monthly = stack_thresholds("local").monthly_budget_usd
    with _endpoint(None, _zero_spend) as (url, _seen):
        argv = ["--prometheus", url, "--month", "2026-04", "--out", str(tmp_path), "--quiet"]
        status, _out, err = _run(
            [*argv, "--stack", "local", "--as-of", "2026-05-01T00:00:00Z"], capsys
        )
    assert status == 0, err
    markdown = (tmp_path / "cost-report-2026-04.md").read_text(encoding="utf-8")
    budget = f"Budget: ${monthly:.2f}, the monthly budget of stack local (monthlyBudgetUsd)"
    assert budget in markdown
    assert "the provider's invoice is authoritative" in markdown
    status, _out, err = _run([*argv, "--stack", "no-such-stack"], capsys)
    assert status == 2 and err.startswith("error: --stack 'no-such-stack': ")


def test_cache_savings_price_each_day_at_that_day_s_price() -> None:
    """Sonnet 5.5's cache read was cut from 0.20 to 0.10 on 2026-10-07 (input 2.00): a million
    cache reads saved $1.80 the day before and $1.90 that day."""
    from types import SimpleNamespace

    tokens = Daily(("app", "operation", "model", "type", "user"))
    before, after = date(2026, 10, 6), date(2026, 10, 7)
    for day in (before, after):
        tokens.add(
            day, ("claude-code", "—", "claude-sonnet-5-5", "cache read", "a"), Decimal(10**6)
        )
    figures = SimpleNamespace(tokens=tokens, days=[before, after])
    (saving,) = cache_savings(figures, load_pricing())  # type: ignore[arg-type]
    assert saving.saved_on_reads == Decimal("3.7")
