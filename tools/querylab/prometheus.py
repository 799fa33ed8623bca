"""Synthetic telemetry backfilled into a real Prometheus, queried like Grafana.

A dataset is a scenario's telemetry from tools.telemetry, backfilled with `promtool tsdb
create-blocks-from openmetrics`, plus the recording rules' series (record_rules), cached by
content and served by Prometheus on a free 127.0.0.1 port. Expressions are interpolated the
way Grafana's Prometheus backend does (pkg/promlib/models/query.go, intervalv2, and the plugin
SDK's gtime): `$__interval` is the query step, `$__rate_interval` is max(interval + scrape
interval, 4 * scrape interval), `$__range` is whole seconds with an `s`; `$__auto` is treated as
the step.
"""

import contextlib
import hashlib
import inspect
import json
import math
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from tools.querylab.binaries import REPO_ROOT
from tools.querylab.ports import free_port
from tools.telemetry.openmetrics import write_openmetrics, write_openmetrics_windows
from tools.telemetry.scenario import Scenario
from tools.telemetry.simulate import simulate
from tools.telemetry.storage import stored_families
from tools.telemetry.truth import Totals, true_totals

if TYPE_CHECKING:
    from vocabulary.pricing import PricingTable
    from vocabulary.recording import RecordingRule

# --- Grafana's variables -----------------------------------------------------------------------

SAFE_RESOLUTION = 11_000
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|y|w|d|h|m|s)")
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800, "y": 31_536_000}
# gtime.RoundInterval: (upper limit, rounded value), in milliseconds.
_ROUNDING_MS = (
    (10, 1), (15, 10), (35, 20), (75, 50), (150, 100), (350, 200), (750, 500), (1500, 1000),
    (3500, 2000), (7500, 5000), (12500, 10000), (17500, 15000), (25000, 20000), (45000, 30000),
    (90000, 60000), (210000, 120000), (450000, 300000), (750000, 600000), (1050000, 900000),
    (1500000, 1200000), (2700000, 1800000), (5400000, 3600000), (9000000, 7200000),
    (16200000, 10800000), (32400000, 21600000), (86400000, 43200000), (172800000, 86400000),
    (604800000, 86400000), (1814400000, 604800000),
)  # fmt: skip
_TEMPLATE_VARIABLE = re.compile(r"\$(\w+)|\[\[(\w+)(?::\w+)?\]\]|\$\{(\w+)(?::([^}]+))?\}")


def parse_duration(text: str) -> float:
    """Seconds in a Grafana/Prometheus duration such as `1m30s`, `15s`, `1d`, `500ms`."""
    text = text.strip().strip("<>")
    if re.fullmatch(r"\d+", text):
        return float(text)
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a duration: {text!r}")
    return sum(float(number) * _SECONDS[unit] for number, unit in parts)


def round_interval(seconds: float) -> float:
    milliseconds = seconds * 1000
    for limit, rounded in _ROUNDING_MS:
        if milliseconds <= limit:
            return rounded / 1000
    return 2_592_000.0 if milliseconds < 3_628_800_000 else 31_536_000.0


def format_interval(seconds: float) -> str:
    """gtime.FormatInterval: the largest whole unit, e.g. `1m`, `2h`, `1d`."""
    for unit, size in (("y", 31_536_000), ("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{max(int(seconds * 1000), 1)}ms"


def format_go_duration(seconds: float) -> str:
    """Go's time.Duration.String() for whole seconds or milliseconds: `1m15s`, `4m0s`, `1h0m0s`."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


@dataclass(frozen=True)
class QueryContext:
    """What Grafana knows when it runs one query: time range, panel options, datasource settings."""

    start: float
    end: float
    max_data_points: int = 1000
    scrape_interval: str = "15s"  # the Prometheus datasource's timeInterval
    min_interval: str | None = None  # the panel/query "Min interval"
    variables: Mapping[str, str | Sequence[str]] = field(default_factory=dict)

    @property
    def range_seconds(self) -> float:
        return self.end - self.start

    @property
    def frontend_interval(self) -> float:
        """`intervalMs` of the request: range / max data points, not below the minimum interval."""
        lower = parse_duration(self.min_interval or self.scrape_interval)
        calculated = self.range_seconds / self.max_data_points
        return lower if calculated < lower else round_interval(calculated)

    @property
    def step(self) -> float:
        """The backend's final step: never finer than range / 11000 (Grafana's safe resolution)."""
        safe = round_interval(self.range_seconds / SAFE_RESOLUTION)
        return max(self.frontend_interval, safe)

    @property
    def rate_interval(self) -> float:
        requested = self.min_interval or self.scrape_interval
        if requested in ("$__interval", "${__interval}"):
            requested = format_interval(self.step)
        scrape = parse_duration(requested)
        return max(self.frontend_interval + scrape, 4 * scrape)


def _format_variable_value(value: str | Sequence[str], form: str | None) -> str:
    if isinstance(value, str):
        return value
    if form == "pipe":
        return "|".join(value)
    if form == "csv" and len(value) == 1:
        return value[0]
    # The Prometheus datasource escapes each chosen value's regex characters with two
    # backslashes (one survives the PromQL string) and joins several into an alternation.
    escaped = [re.sub(r"[\\^$*+?.()|\[\]{}]", r"\\\\\g<0>", item) for item in value]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


def substitute_template_variables(expr: str, variables: Mapping[str, str | Sequence[str]]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2) or match.group(3)
        if name.startswith("__") or name not in variables:
            return match.group(0)
        return _format_variable_value(variables[name], match.group(4))

    return _TEMPLATE_VARIABLE.sub(replace, expr)


def interpolate(expr: str, context: QueryContext) -> str:
    """The expression Grafana sends to the datasource for this context."""
    expr = substitute_template_variables(expr, context.variables)
    step, rate = context.step, context.rate_interval
    range_s = round(context.range_seconds)
    replacements = (
        ("__interval_ms", str(int(step * 1000))),
        ("__interval", format_interval(step)),
        ("__auto", format_interval(step)),
        ("__range_ms", str(int(context.range_seconds * 1000))),
        ("__range_s", str(range_s)),
        ("__range", f"{range_s}s"),
        ("__rate_interval_ms", str(int(rate * 1000))),
        ("__rate_interval", format_go_duration(rate)),
    )
    for name, value in replacements:
        expr = expr.replace("${" + name + "}", value)
        expr = re.sub(r"\$" + name + r"(?![A-Za-z0-9_])", lambda _m, v=value: v, expr)
    return expr


# --- a real Prometheus -------------------------------------------------------------------------


class PromQLError(AssertionError):
    """Prometheus refused a query; the message is Prometheus's own (e.g. its parse error)."""


Series = dict  # one result entry: {"metric": {...}, "value": [t, v]} or {"metric", "values"}


@dataclass
class PrometheusServer:
    """A running Prometheus serving one TSDB directory on 127.0.0.1."""

    binary: str
    storage: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None
    query_timeout: float = 120.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0, query_timeout: float = 120.0) -> None:
        self.query_timeout = query_timeout
        config = self.storage.parent / "prometheus.yml"
        config.write_text("global:\n  evaluation_interval: 1m\n", encoding="utf-8")
        self.log = self.storage.parent / "prometheus.log"
        self.port = free_port()
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    self.binary,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={self.storage}",
                    "--storage.tsdb.retention.time=10y",
                    f"--query.timeout={int(query_timeout)}s",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"prometheus exited: {self._log_tail()}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as response,
            ):
                if response.status == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"prometheus not ready after {timeout:.0f}s: {self._log_tail()}")

    def _log_tail(self) -> str:
        if self.log is None or not self.log.exists():
            return ""
        return self.log.read_text(encoding="utf-8", errors="replace")[-2000:]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def _api(self, path: str, params: Mapping[str, str], timeout: float | None = None) -> dict:
        """A query API call; the client waits a little longer than the server's query timeout,
        so a slow query ends with Prometheus's own error rather than a socket timeout."""
        timeout = self.query_timeout + 10 if timeout is None else timeout
        data = urllib.parse.urlencode(params).encode()
        request = urllib.request.Request(f"{self.url}{path}", data=data, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                body = json.load(response)
        except urllib.error.HTTPError as error:
            body = json.loads(error.read() or b"{}")
            raise PromQLError(body.get("error", f"HTTP {error.code}")) from None
        if body.get("status") != "success":
            raise PromQLError(body.get("error", "query failed"))
        return body["data"]

    def query(self, expr: str, at: float) -> list[Series]:
        """An instant query at `at` (unix seconds)."""
        return self._api("/api/v1/query", {"query": expr, "time": f"{at:.3f}"})["result"]

    def query_range(
        self, expr: str, start: float, end: float, step: float, timeout: float | None = None
    ) -> list[Series]:
        params = {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step}"}
        return self._api("/api/v1/query_range", params, timeout)["result"]


# promtool's block duration for `--max-block-duration=162h` (the largest of 2 h x 3^n that fits):
# blocks start at its multiples since the epoch, so files split at them give the same blocks.
BLOCK_SECONDS = 162 * 3600


def backfill(promtool: str, openmetrics: Path, storage: Path) -> None:
    """Blocks of BLOCK_SECONDS from OpenMetrics text. promtool reads the whole file into memory
    and parses it once per block it writes, so a long dataset is best given as one file per
    block window (write_openmetrics_windows)."""
    result = subprocess.run(
        [
            promtool,
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            f"--max-block-duration={BLOCK_SECONDS // 3600}h",
            str(openmetrics),
            str(storage),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"promtool backfill failed: {result.stderr.strip() or result.stdout}")


def promtool_test_rules(promtool: str, *test_files: Path, run: Sequence[str] = ()) -> str:
    """Run `promtool test rules` (only the test groups whose names match a `run` pattern, when
    given); raises AssertionError with promtool's output when a test fails."""
    selected = [f"--run={pattern}" for pattern in run]
    result = subprocess.run(
        [promtool, "test", "rules", *selected, *map(str, test_files)],
        capture_output=True,
        text=True,
        check=False,
    )
    output = (result.stdout + result.stderr).strip()
    if result.returncode != 0:
        raise AssertionError(output)
    return output


# --- the dataset and the harness ---------------------------------------------------------------


@dataclass
class QueryDataset:
    """A backfilled Prometheus with the scenario and true totals it was made from."""

    scenario: Scenario
    totals: Totals
    server: PrometheusServer
    samples: int
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def end(self) -> float:
        return self.scenario.end

    @property
    def now(self) -> float:
        """Grafana's `now` for dashboards: 18:00 UTC on the last (working) day of the data."""
        return self.scenario.end - 6 * 3600

    def instant(self, expr: str, context: QueryContext) -> list[Series]:
        """What an instant query in a panel returns (evaluated at the range's end)."""
        return self.server.query(interpolate(expr, context), context.end)

    def range(self, expr: str, context: QueryContext) -> list[Series]:
        """What a panel's range query returns (start and end aligned to the step, like Grafana)."""
        step = context.step
        start = (context.start // step) * step
        end = (context.end // step) * step
        return self.server.query_range(interpolate(expr, context), start, end, step)


def _binary_digest(executable: str) -> bytes:
    """A tool's content, not its path: every worktree's or CI's copy of the same build agrees."""
    with Path(executable).open("rb") as binary:
        return hashlib.file_digest(binary, "sha256").digest()


def raw_fingerprint(scenario: Scenario, promtool: str) -> str:
    """Changes whenever the scenario, promtool or the generator's or importer's code change."""
    digest = hashlib.sha256(repr(scenario).encode())
    digest.update(_binary_digest(promtool))
    for source in sorted((REPO_ROOT / "tools" / "telemetry").glob("*.py")):
        digest.update(source.read_bytes())
    for importing in (backfill, build_raw_blocks):
        digest.update(inspect.getsource(importing).encode())
    # The Loki recording rules' series come with the raw data (the generator's events counted).
    from tools.querylab import event_counts as loki_stand_in
    from vocabulary.event_counts import EVENT_COUNTS

    digest.update(inspect.getsource(loki_stand_in).encode())
    digest.update(json.dumps([(c.record, c.expr()) for c in EVENT_COUNTS]).encode())
    return digest.hexdigest()[:16]


def rules_fingerprint(prometheus: str, table: "PricingTable") -> str:
    """Changes whenever the recording rules (priced from `table`), the Prometheus evaluating
    them or the way they are recorded change."""
    from vocabulary.recording import prometheus_rule_file

    digest = hashlib.sha256(json.dumps(prometheus_rule_file(table)).encode())
    digest.update(_binary_digest(prometheus))
    for recording in (evaluation_times, record_rules, backfill_recording_rules):
        digest.update(inspect.getsource(recording).encode())
    return digest.hexdigest()[:16]


# One query_range per rule and chunk: a day of 5-minute evaluations is 288 points per series.
RECORD_CHUNK_SECONDS = 86_400
# A day of a busy rule on a month of raw series can take minutes on a loaded 2-core machine.
RECORD_QUERY_TIMEOUT = 900.0


def evaluation_times(start: float, end: float, interval: float) -> tuple[float, float]:
    """The first and last evaluation in [start, end] of a group evaluated on the multiples of
    `interval` since the epoch (Grafana's scheduler ticks on them)."""
    first = math.ceil(start / interval) * interval
    return first, first + (end - first) // interval * interval


def record_rules(
    server: PrometheusServer,
    rules: Sequence["RecordingRule"],
    start: float,
    end: float,
    interval: float,
    out: TextIO,
) -> int:
    """Each rule's expression evaluated at every `interval` from `start` to `end` through
    query_range (which evaluates each step exactly as an instant query, as the ruler does), in
    day-long chunks run in parallel, written as OpenMetrics with the rule's name; returns the
    number of samples written."""
    first, last = evaluation_times(start, end, interval)
    per_chunk = max(RECORD_CHUNK_SECONDS // interval, 1) * interval
    chunks = [
        (begin, min(begin + per_chunk - interval, last))
        for begin in _frange(first, last, per_chunk)
    ]

    def evaluate(rule: "RecordingRule", chunk: tuple[float, float]) -> list[Series]:
        return server.query_range(
            rule.expr, chunk[0], chunk[1], interval, timeout=RECORD_QUERY_TIMEOUT
        )

    written = 0
    pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 2)
    try:
        results = {
            rule.record: [pool.submit(evaluate, rule, chunk) for chunk in chunks] for rule in rules
        }
        for record, futures in results.items():
            samples: dict[tuple[tuple[str, str], ...], list[tuple[float, str]]] = {}
            for future in futures:  # chunks in time order, so each series stays in order
                for entry in future.result():
                    labels = tuple(sorted(entry["metric"].items()))
                    samples.setdefault(labels, []).extend((float(t), v) for t, v in entry["values"])
            out.write(f"# TYPE {record} gauge\n")
            for labels, points in samples.items():
                prefix = record + _openmetrics_labels(labels) + " "
                out.write("".join(f"{prefix}{value} {at:.3f}\n" for at, value in points))
                written += len(points)
    finally:  # a failed query stops the rest instead of waiting for them
        pool.shutdown(cancel_futures=True)
    out.write("# EOF\n")
    return written


def _frange(first: float, last: float, step: float) -> Iterator[float]:
    at = first
    while at <= last:
        yield at
        at += step


def _openmetrics_labels(labels: Sequence[tuple[str, str]]) -> str:
    escaped = (
        (name, value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n"))
        for name, value in labels
    )
    return "{" + ",".join(f'{name}="{value}"' for name, value in escaped) + "}" if labels else ""


def backfill_recording_rules(
    promtool: str,
    prometheus: str,
    raw_blocks: Path,
    start: float,
    end: float,
    output: Path,
    table: "PricingTable",
) -> int:
    """The recording rules' series from `start` to `end` in blocks under `output`: every rule
    evaluated by a Prometheus serving `raw_blocks` (record_rules) and imported with promtool.
    `promtool tsdb create-blocks-from rules` computes the same series but runs one range query
    and writes one block per rule and 2 hours (months of data: thousands of each), and evaluates
    at an offset hashed from the rule file's path. The spend rules price tokens from `table`.
    Returns the number of recorded samples."""
    from vocabulary.recording import INTERVAL_SECONDS, recording_rules

    server = start_on_copy(raw_blocks, prometheus, timeout=300, query_timeout=RECORD_QUERY_TIMEOUT)
    try:
        recorded = server.storage.parent / "recorded.om"
        with recorded.open("w", encoding="utf-8") as out:
            samples = record_rules(
                server, recording_rules(table), start, end, INTERVAL_SECONDS, out
            )
    finally:
        server.stop()
    try:
        backfill(promtool, recorded, output)
    finally:
        shutil.rmtree(server.storage.parent, ignore_errors=True)
    return samples


def build_raw_blocks(scenario: Scenario, promtool: str, output: Path) -> int:
    """Generate the scenario and backfill it into `output`, one OpenMetrics file per block window
    so promtool parses each sample once, with what the Loki recording rules would record from its
    events (no Loki runs here: tools/querylab/event_counts.py); returns the number of samples."""
    from tools.querylab.event_counts import event_count_families
    from tools.telemetry.logs import loki_entries
    from vocabulary.event_counts import EVENT_COUNTS
    from vocabulary.event_counts import INTERVAL_SECONDS as EVENT_COUNT_INTERVAL

    traffic = simulate(scenario)
    with tempfile.TemporaryDirectory(prefix="llm-o11y-om-") as scratch:
        samples, files = write_openmetrics_windows(
            stored_families(traffic, scenario), Path(scratch), BLOCK_SECONDS
        )
        for openmetrics in files:
            backfill(promtool, openmetrics, output)
            openmetrics.unlink()
        event_counts = Path(scratch) / "event-counts.om"
        counted = write_openmetrics(
            event_count_families(
                EVENT_COUNTS,
                list(loki_entries(traffic)),
                scenario.start,
                scenario.end + 600,
                EVENT_COUNT_INTERVAL,
            ),
            event_counts,
        )
        if counted:
            backfill(promtool, event_counts, output)
    return samples


def _publish(build: Callable[[Path], None], entry: Path) -> None:
    """Build into a scratch folder beside `entry` and rename it into place, so a concurrent build
    of the same entry never sees half of one."""
    entry.parent.mkdir(parents=True, exist_ok=True)
    partial = entry.with_name(f"{entry.name}.{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        build(partial)
        partial.rename(entry)
    except OSError:
        if not entry.exists():  # not another process finishing first: a real failure
            raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def build_blocks(
    scenario: Scenario,
    promtool: str,
    blocks: Path,
    prometheus: str,
    table: "PricingTable",
    recorded_from: float | None = None,
) -> int:
    """Generate the scenario, backfill it into `blocks` and add the recording rules' series
    (priced from `table`) from `recorded_from` (default: the start) to the end; returns the
    number of raw samples."""
    with tempfile.TemporaryDirectory(prefix="llm-o11y-blocks-") as scratch:
        raw = Path(scratch) / "raw"
        samples = build_raw_blocks(scenario, promtool, raw)
        recorded = Path(scratch) / "recorded"
        first = scenario.start if recorded_from is None else recorded_from
        backfill_recording_rules(
            promtool, prometheus, raw, first, scenario.end + 600, recorded, table
        )

        def assemble(into: Path) -> None:
            shutil.copytree(raw, into)
            for block in recorded.iterdir():
                shutil.copytree(block, into / block.name)
            (into / SAMPLES_FILE).write_text(str(samples), encoding="utf-8")

        _publish(assemble, blocks)
    return samples


SAMPLES_FILE = "samples.txt"  # in a raw entry: its sample count, written last (the entry is done)


def cached_blocks(
    scenario: Scenario,
    promtool: str,
    prometheus: str,
    cache: Path,
    table: "PricingTable",
    announce: Callable[[str], None] | None = None,
) -> tuple[list[Path], int]:
    """The scenario's blocks under `cache` (raw, then recorded) and its raw sample count. The raw
    blocks are keyed by the generator, scenario and promtool, the recorded ones also by the rules
    (priced from `table`), so changing a rule or a price re-records from the cached raw blocks
    instead of regenerating them."""
    say = announce or (lambda _message: None)
    raw, samples = cached_raw_blocks(scenario, promtool, cache, say)
    recorded = (
        cache / f"recorded-{raw.name.removeprefix('raw-')}-{rules_fingerprint(prometheus, table)}"
    )
    if not recorded.exists():
        say("recording the rules' series from the raw blocks")
        began = time.monotonic()
        _publish(
            lambda into: _record_into(promtool, prometheus, raw, scenario, into, table),
            recorded,
        )
        say(f"  recorded series in {time.monotonic() - began:.0f} s -> {recorded}")
    return [raw, recorded], samples


def cached_raw_blocks(
    scenario: Scenario, promtool: str, cache: Path, announce: Callable[[str], None]
) -> tuple[Path, int]:
    """The scenario's raw blocks under `cache` and their sample count; generated once."""
    raw = cache / f"raw-{raw_fingerprint(scenario, promtool)}"
    if not (raw / SAMPLES_FILE).exists():
        announce(f"generating and backfilling {scenario} (first run: minutes)")
        began = time.monotonic()

        def generate(into: Path) -> None:
            generated = build_raw_blocks(scenario, promtool, into)
            (into / SAMPLES_FILE).write_text(str(generated), encoding="utf-8")

        _publish(generate, raw)
        announce(f"  raw series in {time.monotonic() - began:.0f} s -> {raw}")
    return raw, int((raw / SAMPLES_FILE).read_text(encoding="utf-8"))


def _record_into(
    promtool: str,
    prometheus: str,
    raw: Path,
    scenario: Scenario,
    output: Path,
    table: "PricingTable",
) -> None:
    output.mkdir(parents=True, exist_ok=True)
    # Past the end by a window and its delay, so the last samples are recorded too.
    backfill_recording_rules(
        promtool, prometheus, raw, scenario.start, scenario.end + 600, output, table
    )


def start_on_copy(
    blocks: Path | Sequence[Path],
    prometheus: str,
    timeout: float = 60.0,
    query_timeout: float = 120.0,
) -> PrometheusServer:
    """A Prometheus on a copy of the blocks in `blocks` (one folder or several), so the cached
    blocks are never written to."""
    workdir = Path(tempfile.mkdtemp(prefix="llm-o11y-prometheus-"))
    storage = workdir / "data"
    storage.mkdir()
    for folder in [blocks] if isinstance(blocks, Path) else blocks:
        for block in folder.iterdir():
            if block.is_dir():
                shutil.copytree(block, storage / block.name)
    server = PrometheusServer(prometheus, storage)
    server.start(timeout=timeout, query_timeout=query_timeout)
    return server


def start_dataset(
    scenario: Scenario, prometheus: str, promtool: str, cache: Path, table: "PricingTable"
) -> QueryDataset:
    """Backfilled blocks are cached by the generator's code, scenario and rules (priced from
    `table`); Prometheus gets a copy."""
    timings: dict[str, float] = {}
    began = time.monotonic()
    blocks, samples = cached_blocks(scenario, promtool, prometheus, cache, table)
    timings["generate_and_backfill"] = time.monotonic() - began
    began = time.monotonic()
    server = start_on_copy(blocks, prometheus)
    timings["prometheus_start"] = time.monotonic() - began
    totals = true_totals(simulate(scenario))
    return QueryDataset(scenario, totals, server, samples, timings)


def series_value(series: Series) -> float:
    return float(series["value"][1])


def by_label(result: Sequence[Series], label: str) -> dict[str, float]:
    """{label value: instant value} of an instant query's result."""
    return {entry["metric"].get(label, ""): series_value(entry) for entry in result}
