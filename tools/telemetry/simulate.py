"""A seeded simulation of a team using Claude Code and of LLM apps serving their users.

Every random choice comes from a generator seeded by (seed, topic), so adding users does not
change the apps' traffic and the same Scenario always gives the same Traffic.
"""

import math
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

from tools.telemetry.events import (
    AppProcess,
    AppRequest,
    ClaudeCodeEvent,
    ClaudeCodeProcess,
    ClaudeCodeUser,
    LlmCall,
    Measurement,
    Outage,
    Traffic,
)
from tools.telemetry.pricing import GPT_4O, GPT_4O_MINI, HAIKU, OPUS, SONNET, ModelPrice
from tools.telemetry.scenario import DAY, Scenario

HOUR = 3600.0
MINUTE = 60.0
TERMINALS = ("vscode", "iTerm.app", "cursor", "tmux", "Apple_Terminal")
TOOLS = ("Read", "Edit", "Bash", "Grep", "Glob", "Write", "TodoWrite", "WebFetch")
EDIT_TOOLS = ("Edit", "Write", "MultiEdit")
LANGUAGES = ("Python", "TypeScript", "Go", "Markdown", "YAML")
DECISION_SOURCES = ("config", "user_temporary", "user_permanent", "user_reject")


class AppProfile:
    """An LLM app archetype: its route, models, whether it writes JSONL cost logs (seed 000)
    and whether it reports gen_ai.usage.cost (OpenLIT) or tokens only (OpenLLMetry)."""

    def __init__(
        self,
        service: str,
        route: str,
        operation: str,
        models: tuple[ModelPrice, ...],
        jsonl: bool,
        reports_cost: bool = True,
    ) -> None:
        self.service = service
        self.route = route
        self.operation = operation
        self.models = models
        self.writes_jsonl = jsonl
        self.reports_cost = reports_cost


APP_PROFILES = (
    AppProfile("support-bot", "/v1/chat", "chat", (SONNET, HAIKU), jsonl=False),
    AppProfile("pr-review-bot", "/v1/review", "chat", (GPT_4O, GPT_4O_MINI), jsonl=True),
    AppProfile(
        "doc-summarizer",
        "/v1/summarize",
        "text_completion",
        (HAIKU,),
        jsonl=False,
        reports_cost=False,
    ),
)


def _rng(scenario: Scenario, topic: str) -> random.Random:
    return random.Random(f"{scenario.seed}:{topic}")


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method; means here are small (sessions per day, requests per minute).
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _lognormal(rng: random.Random, median: float, spread: float) -> float:
    return median * math.exp(rng.gauss(0.0, spread))


def _is_weekend(timestamp: float) -> bool:
    return datetime.fromtimestamp(timestamp, UTC).weekday() >= 5


def _team(scenario: Scenario) -> list[ClaudeCodeUser]:
    rng = _rng(scenario, "team")
    organization = _uuid(rng)
    return [
        ClaudeCodeUser(
            email=f"dev{index + 1}@example.com",
            account_uuid=_uuid(rng),
            organization_id=organization,
            terminal_type=TERMINALS[index % len(TERMINALS)],
        )
        for index in range(scenario.users)
    ]


class _ClaudeCodeRecorder:
    """Collects the events and counter recordings of Claude Code processes.

    A process's end is known only after its last turn, so recordings wait in `pending` until
    `close` binds them to the finished process.
    """

    def __init__(self) -> None:
        self.events: list[ClaudeCodeEvent] = []
        self.measurements: list[Measurement] = []
        self.pending_events: list[tuple[float, str, tuple]] = []
        self.pending_counts: list[tuple[float, str, tuple, float]] = []

    def event(self, time: float, name: str, **attributes) -> None:
        self.pending_events.append((time, name, tuple(attributes.items())))

    def count(self, time: float, instrument: str, value: float, **attributes) -> None:
        labels = tuple((key, str(val)) for key, val in attributes.items())
        self.pending_counts.append((time, instrument, labels, value))

    def last_time(self) -> float:
        times = [event[0] for event in self.pending_events] + [c[0] for c in self.pending_counts]
        return max(times, default=0.0)

    def close(self, process: ClaudeCodeProcess) -> None:
        for time, name, attributes in self.pending_events:
            self.events.append(ClaudeCodeEvent(time, process, name, attributes))
        for time, instrument, labels, value in self.pending_counts:
            self.measurements.append(Measurement(time, process, instrument, labels, value))
        self.pending_events, self.pending_counts = [], []


def _session_runs(
    rng: random.Random, start: float, length: float, resume_probability: float
) -> list[tuple[float, float]]:
    """The processes of one session: one run, or two when the user resumes it later."""
    if rng.random() >= resume_probability or length < 20 * MINUTE:
        return [(start, start + length)]
    first = length * rng.uniform(0.3, 0.7)
    gap = rng.uniform(10 * MINUTE, 90 * MINUTE)
    return [(start, start + first), (start + first + gap, start + length + gap)]


def _api_request(
    rng: random.Random,
    recorder: _ClaudeCodeRecorder,
    time: float,
    price: ModelPrice,
    context: float,
) -> float:
    """Record one API request; returns its duration in seconds."""
    output = int(_lognormal(rng, 550, 0.7)) + 1
    fresh_input = int(_lognormal(rng, 250, 0.8)) + 1
    cache_read = int(context * rng.uniform(0.85, 1.0))
    cache_write = int(_lognormal(rng, 1800, 0.9))
    cost = price.cost(fresh_input, output, cache_read, cache_write)
    duration = 0.8 + output / rng.uniform(40, 90)
    recorder.event(
        time,
        "api_request",
        model=price.model,
        cost_usd=cost,
        duration_ms=int(duration * 1000),
        input_tokens=fresh_input,
        output_tokens=output,
        cache_read_tokens=cache_read,
        cache_creation_tokens=cache_write,
    )
    recorder.count(time, "claude_code.cost.usage", cost, model=price.model)
    tokens = {
        "input": fresh_input,
        "output": output,
        "cacheRead": cache_read,
        "cacheCreation": cache_write,
    }
    for token_type, amount in tokens.items():
        recorder.count(time, "claude_code.token.usage", amount, type=token_type, model=price.model)
    return duration


def _tool_use(rng: random.Random, recorder: _ClaudeCodeRecorder, time: float) -> float:
    """One tool call with its permission decision; returns how long it took (seconds)."""
    tool = rng.choice(TOOLS + EDIT_TOOLS)
    source = rng.choices(DECISION_SOURCES, weights=(6, 3, 2, 1))[0]
    decision = "reject" if source == "user_reject" else "accept"
    recorder.event(time, "tool_decision", tool_name=tool, decision=decision, source=source)
    if tool in EDIT_TOOLS:
        language = rng.choice(LANGUAGES)
        recorder.count(
            time,
            "claude_code.code_edit_tool.decision",
            1,
            decision=decision,
            tool_name=tool,
            language=language,
        )
        if decision == "accept":
            recorder.count(
                time, "claude_code.lines_of_code.count", rng.randint(1, 60), type="added"
            )
            recorder.count(
                time, "claude_code.lines_of_code.count", rng.randint(0, 25), type="removed"
            )
    if decision == "reject":
        return 0.0
    duration = _lognormal(rng, 0.4 if tool != "Bash" else 4.0, 1.0)
    recorder.event(
        time + duration,
        "tool_result",
        tool_name=tool,
        success=rng.random() > 0.06,
        duration_ms=int(duration * 1000),
    )
    return duration


def _prompt_turn(
    rng: random.Random,
    recorder: _ClaudeCodeRecorder,
    time: float,
    main_model: ModelPrice,
    context: float,
) -> float:
    """A user prompt and the agent loop it starts; returns when the turn ended."""
    recorder.event(time, "user_prompt", prompt_length=int(_lognormal(rng, 180, 1.0)) + 1)
    typing = rng.uniform(5, 60)
    now = time + rng.uniform(0.2, 1.5)
    if rng.random() < 0.5:
        now += _api_request(rng, recorder, now, HAIKU, 4000)
    for attempt in range(1, 4):
        if rng.random() >= 0.03:
            break
        status = rng.choice((429, 500, 529))
        recorder.event(
            now,
            "api_error",
            model=main_model.model,
            error=f"HTTP {status}",
            status_code=status,
            duration_ms=int(rng.uniform(200, 2000)),
            attempt=attempt,
        )
        now += 2.0**attempt
    for _ in range(1 + min(int(rng.expovariate(0.5)), 8)):
        now += _api_request(rng, recorder, now, main_model, context)
        now += _tool_use(rng, recorder, now)
    if rng.random() < 0.08:
        recorder.count(now, "claude_code.commit.count", 1)
        if rng.random() < 0.3:
            recorder.count(now, "claude_code.pull_request.count", 1)
    recorder.count(now, "claude_code.active_time.total", typing, type="user")
    recorder.count(now, "claude_code.active_time.total", now - time, type="cli")
    return now


def _run_process(
    rng: random.Random,
    recorder: _ClaudeCodeRecorder,
    session_id: str,
    user: ClaudeCodeUser,
    planned: tuple[float, float],
    main_model: ModelPrice,
    think_time: float,
) -> ClaudeCodeProcess:
    """Play one CLI run; it ends after the last turn that started before the planned end."""
    start, planned_end = planned
    recorder.count(start + 0.5, "claude_code.session.count", 1)
    now = start + rng.uniform(5, 60)
    context = _lognormal(rng, 15_000, 0.4)
    while now < planned_end - 5:
        now = _prompt_turn(rng, recorder, now, main_model, context)
        context = min(context * rng.uniform(1.02, 1.12), 180_000)
        now += rng.expovariate(1 / think_time)
    process = ClaudeCodeProcess(session_id, user, start, max(planned_end, recorder.last_time() + 2))
    recorder.close(process)
    return process


def _sessions_of_day(
    rng: random.Random, scenario: Scenario, day_start: float, index: int
) -> list[tuple[float, float]]:
    """(start, length) of one user's sessions on one day, in working hours."""
    mean = scenario.sessions_per_user_per_day * (0.2 if _is_weekend(day_start) else 1.0)
    shift = (index % 4) * HOUR  # users spread over a few time zones
    sessions = []
    for _ in range(_poisson(rng, mean)):
        start = day_start + shift + rng.uniform(8 * HOUR, 18 * HOUR)
        length = min(max(_lognormal(rng, 55 * MINUTE, 0.6), 8 * MINUTE), 4 * HOUR)
        sessions.append((start, length))
    return sessions


def simulate_claude_code(
    scenario: Scenario,
) -> tuple[list[ClaudeCodeProcess], list[ClaudeCodeEvent], list[Measurement]]:
    rng = _rng(scenario, "claude-code")
    recorder = _ClaudeCodeRecorder()
    processes: list[ClaudeCodeProcess] = []
    team = _team(scenario)
    spike_day = max(int(scenario.days) - 2, 0)
    for day in range(math.ceil(scenario.days)):
        day_start = scenario.start + day * DAY
        for index, user in enumerate(team):
            sessions = _sessions_of_day(rng, scenario, day_start, index)
            if scenario.cost_spike and day == spike_day and index == 0:
                sessions.append((day_start + 9 * HOUR, 6 * HOUR))
            for start, length in sessions:
                spike = (
                    scenario.cost_spike and day == spike_day and index == 0 and length == 6 * HOUR
                )
                model = OPUS if spike or rng.random() < 0.2 else SONNET
                think_time = 20.0 if spike else 150.0
                session_id = _uuid(rng)
                for run_start, run_end in _session_runs(
                    rng, start, length, scenario.resume_probability
                ):
                    if run_end > scenario.end - 2 * HOUR:
                        continue  # keep every run inside the dataset's window
                    processes.append(
                        _run_process(
                            rng, recorder, session_id, user, (run_start, run_end), model, think_time
                        )
                    )
    recorder.events.sort(key=lambda event: event.time)
    recorder.measurements.sort(key=lambda measurement: measurement.time)
    return processes, recorder.events, recorder.measurements


def _app_processes(scenario: Scenario, profile: AppProfile, replica: int) -> list[AppProcess]:
    """Nightly restarts keep the instance id (host) and version, so the app's counters reset."""
    rng = _rng(scenario, f"deploys:{profile.service}:{replica}")
    instance = f"{profile.service}-{replica}"
    processes, start = [], scenario.apps_start
    while start < scenario.end:
        restart = math.floor(start / DAY + 1) * DAY + 2 * HOUR + rng.uniform(0, HOUR)
        # A release every third day; the nightly restarts in between keep the version.
        version = f"1.{int((start - scenario.apps_start) // (3 * DAY)) + 1}.0"
        processes.append(
            AppProcess(profile.service, instance, version, start, min(restart, scenario.end))
        )
        start = restart + rng.uniform(10, 30)
    return processes


def _traffic_shape(timestamp: float) -> float:
    """Relative request rate: busy in working hours, quiet at night and on weekends."""
    hour = (timestamp % DAY) / HOUR
    working = math.exp(-(((hour - 14.0) / 4.0) ** 2))
    return (0.1 + 0.9 * working) * (0.3 if _is_weekend(timestamp) else 1.0)


def _llm_call(rng: random.Random, start: float, price: ModelPrice, operation: str) -> LlmCall:
    roll = rng.random()
    if roll < 0.02:
        return LlmCall(
            price.model, price.provider, operation, 0, 0, 0.0, start, 0.3, "RateLimitError"
        )
    if roll < 0.03:
        duration = 60.0
        return LlmCall(
            price.model, price.provider, operation, 0, 0, 0.0, start, duration, "APITimeoutError"
        )
    input_tokens = int(_lognormal(rng, 1400, 0.8)) + 1
    output_tokens = int(_lognormal(rng, 380, 0.7)) + 1
    duration = 0.4 + output_tokens / rng.uniform(50, 110)
    if rng.random() < 0.03:
        duration *= rng.uniform(4, 10)  # the slow tail latency alerts look for
    cost = price.cost(input_tokens, output_tokens, 0, 0)
    return LlmCall(
        price.model,
        price.provider,
        operation,
        input_tokens,
        output_tokens,
        cost,
        start,
        duration,
        None,
    )


def _requests_of(
    scenario: Scenario, profile: AppProfile, process: AppProcess, users: int, shaped: bool = True
) -> Iterator[AppRequest]:
    rng = _rng(scenario, f"requests:{process.instance}:{process.start}")
    minute = math.floor(process.start / MINUTE) * MINUTE
    while minute < process.end:
        shape = _traffic_shape(minute) if shaped else 1.0
        mean = scenario.app_requests_per_hour / 60 * shape
        for _ in range(_poisson(rng, mean)):
            time = minute + rng.uniform(0, MINUTE)
            if (
                not process.start
                <= time
                < process.end - min(120, (process.end - process.start) / 10)
            ):
                continue
            price = profile.models[0] if rng.random() < 0.7 else profile.models[-1]
            llm = _llm_call(rng, time + rng.uniform(0.005, 0.05), price, profile.operation)
            status = {None: 200, "RateLimitError": 503, "APITimeoutError": 504}[llm.error_type]
            yield AppRequest(
                process=process,
                time=time,
                method="POST",
                route=profile.route,
                status_code=status,
                duration=llm.duration + rng.uniform(0.01, 0.12),
                llm=llm,
                trace_id=rng.getrandbits(128),
                user=f"user{rng.randint(1, max(users * 10, 1))}",
                writes_jsonl=profile.writes_jsonl,
                reports_cost=profile.reports_cost,
            )
        minute += MINUTE


def simulate_apps(scenario: Scenario) -> tuple[list[AppProcess], list[AppRequest]]:
    processes: list[AppProcess] = []
    requests: list[AppRequest] = []
    for index in range(scenario.apps):
        profile = APP_PROFILES[index % len(APP_PROFILES)]
        replica = index // len(APP_PROFILES) + 1
        for process in _app_processes(scenario, profile, replica):
            processes.append(process)
            requests.extend(_requests_of(scenario, profile, process, scenario.users))
    requests.sort(key=lambda request: request.time)
    return processes, requests


def simulate_outages(scenario: Scenario) -> list[Outage]:
    """Tempo down for 12 minutes in the afternoon of the third-to-last day."""
    day = max(math.ceil(scenario.days) - 3, 0)
    start = scenario.start + day * DAY + 14 * HOUR
    if start + 12 * MINUTE > scenario.end:
        return []
    return [Outage("tempo", start, start + 12 * MINUTE)]


def simulate(scenario: Scenario) -> Traffic:
    """All traffic of a scenario; deterministic for a given Scenario."""
    processes, events, measurements = simulate_claude_code(scenario)
    app_processes, requests = simulate_apps(scenario)
    return Traffic(
        claude_code_processes=tuple(processes),
        claude_code_events=tuple(events),
        claude_code_measurements=tuple(measurements),
        app_processes=tuple(app_processes),
        app_requests=tuple(requests),
        outages=tuple(simulate_outages(scenario)),
    )


def simulate_window(scenario: Scenario, start: float, minutes: float) -> Traffic:
    """Compressed traffic for a live demo: every user in one busy Claude Code session and every
    app serving at a flat `app_requests_per_hour`, all within [start, start + minutes]."""
    end = start + minutes * MINUTE
    rng = _rng(scenario, f"window:{start}")
    recorder = _ClaudeCodeRecorder()
    processes = []
    for user in _team(scenario):
        run_start = start + rng.uniform(1, min(60.0, minutes * 6))
        model = OPUS if rng.random() < 0.2 else SONNET
        planned = (run_start, max(end - 30, run_start + 30))
        processes.append(_run_process(rng, recorder, _uuid(rng), user, planned, model, 15.0))
    app_processes, requests = [], []
    for index in range(scenario.apps):
        profile = APP_PROFILES[index % len(APP_PROFILES)]
        process = AppProcess(
            profile.service, f"{profile.service}-{index // 3 + 1}", "1.0.0", start, end
        )
        app_processes.append(process)
        requests.extend(_requests_of(scenario, profile, process, scenario.users, shaped=False))
    return Traffic(
        claude_code_processes=tuple(processes),
        claude_code_events=tuple(sorted(recorder.events, key=lambda event: event.time)),
        claude_code_measurements=tuple(sorted(recorder.measurements, key=lambda m: m.time)),
        app_processes=tuple(app_processes),
        app_requests=tuple(sorted(requests, key=lambda request: request.time)),
        outages=(),
    )
