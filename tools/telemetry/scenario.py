"""The knobs of a generated dataset: how big a team, how long, how often things are exported."""

from dataclasses import dataclass
from datetime import UTC, datetime

DAY = 86_400.0
# A fixed default start keeps generated datasets byte-for-byte reproducible.
DEFAULT_START = datetime(2026, 3, 3, tzinfo=UTC)  # a Tuesday: a 7-day dataset ends on a Monday


@dataclass(frozen=True)
class Scenario:
    """What to generate. Defaults are a small team; benchmarks raise users/days/apps."""

    seed: int = 7
    start: float = DEFAULT_START.timestamp()
    days: float = 7.0
    users: int = 5
    sessions_per_user_per_day: float = 2.0
    # Share of Claude Code sessions resumed later in a new process (`claude --resume`): the same
    # session.id series restarts from zero, i.e. a counter reset.
    resume_probability: float = 0.25
    apps: int = 2
    app_requests_per_hour: float = 40.0
    # How many of the last days the LLM apps have been instrumented (None: all of them). Their
    # classic histograms are most of a dataset's samples, so small fixtures shorten this.
    app_days: float | None = None
    # OTLP SDKs export every 60 s by default (OTEL_METRIC_EXPORT_INTERVAL).
    export_interval: float = 60.0
    # Prometheus scrape interval for the stack's own metrics.
    scrape_interval: float = 15.0
    # Tempo metrics-generator collection (and remote-write) interval.
    tempo_interval: float = 15.0
    # Store a zero sample at each OTLP counter's start time, as Prometheus (>= 3.7) does with
    # --enable-feature=created-timestamp-zero-ingestion. Without it increase() misses the first
    # export of every series, which per-session Claude Code series make a visible undercount.
    start_zero_samples: bool = True
    # One user's runaway Opus session on the day before the last: what cost alerts must catch.
    cost_spike: bool = True
    # One user's burst of refused requests and of requests that exhausted their retries, ending
    # minutes before 18:00 on the last day: what the burst alerts must catch there.
    event_burst: bool = True
    # Claude Code's models: "2025" (Opus 4.1, Sonnet 4.5) or "2026" (Opus 5.5, Sonnet 5.5,
    # whose cache-read price changed on 2026-10-07).
    lineup: str = "2025"
    # One more app, reporting tokens only, on a model configs/pricing.yaml does not price.
    unpriced_app: bool = False

    @property
    def end(self) -> float:
        return self.start + self.days * DAY

    @property
    def apps_start(self) -> float:
        if self.app_days is None:
            return self.start
        return max(self.start, self.end - self.app_days * DAY)
