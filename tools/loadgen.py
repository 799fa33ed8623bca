"""Live demo traffic for the local stack: `python -m tools.loadgen --endpoint ... --minutes N`.

Plays a compressed, seeded day of LLM usage in real time against an OTLP endpoint (the stack's
collector): Claude Code sessions, CLI and Desktop (metrics, events and beta-trace spans), and LLM
apps on each generation of the GenAI conventions (GenAI and HTTP metrics, spans),
so every dashboard fills within minutes. Optionally appends the JSONL cost log the collector tails.
Exit status: 0 when all was sent, 1 when exports failed, 2 when the endpoint is unreachable or
speaks the other OTLP transport, or the arguments are invalid, 130 when interrupted (buffered
telemetry is flushed first). Traffic stops at the end of --minutes.
"""

import argparse
import json
import signal
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tools.arguments import OneLineParser, above, at_least, http_url, output_directory
from tools.telemetry.events import (
    AppRequest,
    ClaudeCodeEvent,
    ClaudeCodeSpan,
    Measurement,
    Traffic,
)
from tools.telemetry.logs import jsonl_records
from tools.telemetry.otlp import (
    EndpointUnreachable,
    OtlpSender,
    OtlpTarget,
    WrongTransport,
    check_reachable,
)
from tools.telemetry.scenario import Scenario
from tools.telemetry.simulate import simulate_window


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m tools.loadgen",
        description=(
            "Send realistic LLM telemetry (Claude Code metrics and events; GenAI app metrics, "
            "HTTP metrics and spans) to an OTLP endpoint in real time, so the dashboards fill."
        ),
        epilog="Example: python -m tools.loadgen --endpoint http://127.0.0.1:4317 --minutes 5",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--endpoint",
        type=http_url,
        default="http://127.0.0.1:4317",
        help="OTLP endpoint of the collector (gRPC port 4317, or 4318 with --protocol http)",
    )
    parser.add_argument(
        "--protocol", choices=("grpc", "http"), default="grpc", help="OTLP transport"
    )
    parser.add_argument(
        "--minutes", type=above(0), default=10.0, help="how long to send traffic, in minutes"
    )
    parser.add_argument(
        "--users", type=at_least(0, int), default=3, help="Claude Code users, one session each"
    )
    parser.add_argument(
        "--apps",
        type=at_least(0, int),
        default=2,
        help="instrumented LLM apps (support-bot, pr-review-bot, ...)",
    )
    parser.add_argument(
        "--requests-per-minute",
        type=above(0),
        default=20.0,
        help="requests each app serves per minute",
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed; same seed, same traffic")
    parser.add_argument(
        "--temporality",
        choices=("cumulative", "delta"),
        default="cumulative",
        help="metric temporality; delta is Claude Code's default, which the collector converts",
    )
    parser.add_argument(
        "--export-interval",
        type=above(0),
        default=15.0,
        help="seconds between metric exports (SDKs default to 60)",
    )
    parser.add_argument(
        "--jsonl-dir",
        type=output_directory,
        default=None,
        help="also append the JSONL cost log (one JSON call record a line) to DIR/llm-cost.jsonl",
    )
    parser.add_argument(
        "--progress-every", type=above(0), default=10.0, help="seconds between progress lines"
    )
    return parser


@dataclass(frozen=True)
class Action:
    at: float
    item: Measurement | ClaudeCodeEvent | ClaudeCodeSpan | AppRequest


def actions(traffic: Traffic) -> list[Action]:
    """Everything to send, at the moment it happens (a request or a span is recorded when it
    ends)."""
    queue = [Action(m.time, m) for m in traffic.claude_code_measurements]
    queue += [Action(e.time, e) for e in traffic.claude_code_events]
    queue += [Action(s.end, s) for s in traffic.claude_code_spans]
    queue += [Action(r.time + r.duration, r) for r in traffic.app_requests]
    return sorted(queue, key=lambda action: action.at)


@dataclass
class Progress:
    measurements: int = 0
    events: int = 0
    spans: int = 0
    requests: int = 0
    cost_usd: float = 0.0

    def line(self, elapsed: float, total: float, failures: int) -> str:
        return (
            f"[{elapsed:6.0f}s/{total:.0f}s] sent {self.measurements} Claude Code recordings, "
            f"{self.events} events, {self.spans} spans, {self.requests} app requests; "
            f"${self.cost_usd:.2f} of LLM "
            f"cost; {failures} failed exports"
        )


def _send(sender: OtlpSender, action: Action, progress: Progress, jsonl: Any) -> None:
    item = action.item
    if isinstance(item, Measurement):
        sender.record_measurement(item)
        progress.measurements += 1
        if item.instrument == "claude_code.cost.usage":
            progress.cost_usd += item.value
    elif isinstance(item, ClaudeCodeEvent):
        sender.emit_event(item)
        progress.events += 1
    elif isinstance(item, ClaudeCodeSpan):
        sender.record_span(item)
        progress.spans += 1
    else:
        sender.record_request(item)
        progress.requests += 1
        progress.cost_usd += item.llm.cost_usd
        if jsonl is not None and item.writes_jsonl and not item.llm.error_type:
            record = next(jsonl_records(_single(item)))
            jsonl.write(json.dumps(record, separators=(",", ":")) + "\n")
            jsonl.flush()


def _single(request: AppRequest) -> Traffic:
    return Traffic((), (), (), (request.process,), (request,), ())


# How soon a Ctrl-C ends a wait.
WAIT_SLICE = 0.2


def _wait_until(moment: float, stop: threading.Event) -> bool:
    """Sleep until `moment`; False as soon as `stop` is set."""
    while not stop.is_set():
        delay = moment - time.time()
        if delay <= 0:
            return True
        time.sleep(min(delay, WAIT_SLICE))
    return False


def replay(
    sender: OtlpSender,
    queue: list[Action],
    window: tuple[float, float],
    every: float,
    jsonl: Any,
    stop: threading.Event | None = None,
) -> Iterator[str]:
    """Send each action at its time; yields a progress line every `every` seconds. Ends early,
    between two sends, once `stop` is set."""
    stop = stop or threading.Event()
    start, end = window
    progress, next_report = Progress(), start + every
    for action in queue:
        while action.at > next_report:
            if not _wait_until(next_report, stop):
                return
            yield progress.line(next_report - start, end - start, sender.stats.failures)
            next_report += every
        if not _wait_until(action.at, stop):
            return
        _send(sender, action, progress, jsonl)
    if _wait_until(end, stop):
        yield progress.line(end - start, end - start, sender.stats.failures)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    target = OtlpTarget(args.endpoint, args.protocol, args.temporality, args.export_interval)
    try:
        check_reachable(target)
    except WrongTransport as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except EndpointUnreachable as error:
        print(f"error: {error}. Is the stack running (`make up`)?", file=sys.stderr)
        return 2
    scenario = Scenario(
        seed=args.seed,
        users=args.users,
        apps=args.apps,
        app_requests_per_hour=args.requests_per_minute * 60,
    )
    start = time.time() + 1.0
    end = start + args.minutes * 60
    traffic = simulate_window(scenario, start, args.minutes)
    queue = actions(traffic)
    sender = OtlpSender(target)
    jsonl = None
    if args.jsonl_dir is not None:
        args.jsonl_dir.mkdir(parents=True, exist_ok=True)
        jsonl = (args.jsonl_dir / "llm-cost.jsonl").open("a", encoding="utf-8")
    print(
        f"sending {len(queue)} recordings over {args.minutes:g} min to {args.endpoint} "
        f"({args.protocol}, {args.temporality}); Ctrl-C stops",
        flush=True,
    )
    # Ctrl-C sets a flag the replay checks between sends: a KeyboardInterrupt raised inside the
    # OpenTelemetry SDK can leave an exporter's worker waiting, and the flush then never ends.
    stop = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda _signal, _frame: stop.set())
    try:
        for line in replay(sender, queue, (start, end), args.progress_every, jsonl, stop):
            print(line, flush=True)
    finally:
        signal.signal(signal.SIGINT, previous)  # a second Ctrl-C while flushing stops at once
        if stop.is_set():
            print("interrupted: flushing what was recorded...", flush=True)
        sender.shutdown()
        if jsonl is not None:
            jsonl.close()
    if stop.is_set():
        return 130
    if sender.stats.failures:
        print(f"error: {sender.stats.failures} exports to {args.endpoint} failed", file=sys.stderr)
        return 1
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
