"""A seeded simulation of a team using Claude Code and of LLM apps serving their users.

Every random choice comes from a generator seeded by (seed, topic), so adding users does not
change the apps' traffic and the same Scenario always gives the same Traffic.
"""

import dataclasses
import math
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

from tools.telemetry.catalog import CLAUDE_CODE_DESKTOP_SERVICE, CLAUDE_CODE_SERVICE
from tools.telemetry.events import (
    AppProcess,
    AppRequest,
    ClaudeCodeEvent,
    ClaudeCodeProcess,
    ClaudeCodeSpan,
    ClaudeCodeUser,
    LlmCall,
    Measurement,
    Outage,
    Traffic,
)
from tools.telemetry.pricing import (
    GPT_4O,
    GPT_4O_MINI,
    GPT_6_LUNA,
    HAIKU,
    OPUS,
    OPUS_5_5,
    SONNET,
    SONNET_5_5,
    ModelPrice,
)
from tools.telemetry.scenario import DAY, Scenario
from tools.telemetry.storage import CLAUDE_CODE_VERSION

HOUR = 3600.0
MINUTE = 60.0
TERMINALS = ("vscode", "iTerm.app", "cursor", "tmux", "Apple_Terminal")
TOOLS = ("Read", "Edit", "Bash", "Grep", "Glob", "Write", "TodoWrite", "WebFetch")
EDIT_TOOLS = ("Edit", "Write", "MultiEdit")
LANGUAGES = ("Python", "TypeScript", "Go", "Markdown", "YAML")
DECISION_SOURCES = ("config", "user_temporary", "user_permanent", "user_reject")
# Claude Code 2026: who made each request. Names as the docs redact them on metrics: built-in
# and official-marketplace names as they are, user-defined agents "custom".
SUBAGENTS = (("Explore", "", ""), ("general-purpose", "", ""), ("custom", "", ""))
SKILLS = (
    ("pdf", "", ""),
    ("frontend-design", "frontend-design", "claude-plugins-official"),
    ("deploy-checklist", "", ""),
)
MCP_TOOLS = (("github", "create_pull_request"), ("linear", "get_issue"), ("custom", "custom"))
EFFORTS = ("medium", "high", "xhigh")
# Shares of turns that activate a skill, hand part of the work to a subagent (of turns with two
# requests or more), or run an MCP tool.
SKILL_TURNS = 0.15
SUBAGENT_TURNS = 0.35
MCP_TURNS = 0.12
AUXILIARY_QUERY_SOURCE = "auxiliary"  # the event's subsystem name; only examples are documented
MAIN_QUERY_SOURCE = "repl_main_thread"
HOOK_EVENT = "PreToolUse"
# (team, cost_center) by user, in turn; every third user sets neither, as a laptop without the
# fleet's settings would.
TEAMS = (("platform", "cc-100"), ("payments", "cc-200"), ("", ""))


class AppProfile:
    """An LLM app archetype: its route, models, whether it writes JSONL cost logs (seed 000),
    whether it reports gen_ai.usage.cost (OpenLIT) or tokens only (OpenLLMetry), and which GenAI
    conventions its instrumentation follows: v1.37, or one of genai_generations.GENERATIONS."""

    def __init__(
        self,
        service: str,
        route: str,
        operation: str,
        models: tuple[ModelPrice, ...],
        jsonl: bool,
        conventions: str = "v1.37",
        reports_cost: bool = True,
        team: tuple[str, str] = ("", ""),
    ) -> None:
        self.service = service
        self.route = route
        self.operation = operation
        self.models = models
        self.writes_jsonl = jsonl
        self.conventions = conventions
        self.reports_cost = reports_cost
        self.team, self.cost_center = team


# The first three follow the conventions of 2025 (v1.37, OpenLIT's cost); the others, present
# with --apps 4 and more, the other generations an app may be on today.
APP_PROFILES = (
    AppProfile("support-bot", "/v1/chat", "chat", (SONNET, HAIKU), jsonl=False, team=TEAMS[0]),
    AppProfile("pr-review-bot", "/v1/review", "chat", (GPT_4O, GPT_4O_MINI), jsonl=True),
    AppProfile(
        "doc-summarizer",
        "/v1/summarize",
        "text_completion",
        (HAIKU,),
        jsonl=False,
        reports_cost=False,
    ),
    AppProfile(
        "research-agent", "/v1/research", "chat", (SONNET,), jsonl=False, conventions="2026"
    ),
    AppProfile(
        "assistant-core",
        "/v1/assist",
        "chat",
        (SONNET, HAIKU),
        jsonl=False,
        conventions="agento11y",
    ),
    AppProfile(
        "legacy-bot", "/v1/answer", "chat", (GPT_4O_MINI,), jsonl=False, conventions="v1.36"
    ),
)
AGENT_NAME = "researcher"
# Scenario.unpriced_app: tokens only, on a model the pricing table lacks.
UNPRICED_APP = AppProfile(
    "triage-bot", "/v1/triage", "chat", (GPT_6_LUNA,), jsonl=False, reports_cost=False
)
# Claude Code's (heavy, everyday) models per Scenario.lineup.
LINEUPS = {"2025": (OPUS, SONNET), "2026": (OPUS_5_5, SONNET_5_5)}


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
            team=TEAMS[index % len(TEAMS)][0],
            cost_center=TEAMS[index % len(TEAMS)][1],
        )
        for index in range(scenario.users)
    ]


class _ClaudeCodeRecorder:
    """Collects the events and counter recordings of Claude Code processes.

    A process's end is known only after its last turn, so recordings wait in `pending` until
    `close` binds them to the finished process.
    """

    def __init__(self, extra: random.Random | None = None) -> None:
        self.events: list[ClaudeCodeEvent] = []
        self.measurements: list[Measurement] = []
        self.spans: list[ClaudeCodeSpan] = []
        self.pending_events: list[tuple[float, str, tuple]] = []
        self.pending_counts: list[tuple[float, str, tuple, float]] = []
        self.pending_spans: list[tuple] = []
        # Choices Claude Code added in 2026 (subagents, skills, MCP, traces) draw from their own
        # stream, so the requests, tokens and costs of a seed stay what they were.
        self.extra = extra or random.Random(0)
        self.metric_attributes: dict[str, str] = {}  # opt-in attributes of the running process
        self.session: dict[str, str] = {}  # effort and speed of the running session
        self.turn: dict[str, str] = {}  # skill and MCP attributes of the current turn
        self.subagent = ""  # the subagent making requests now, if any
        self.trace_id = 0
        self.parent_span: int | None = None
        self.hooks = False
        self.session_model = ""
        self.compacted = False
        self.turns = 0
        self.onboarded: set[str] = set()

    def event(self, time: float, name: str, **attributes) -> None:
        self.pending_events.append((time, name, tuple(attributes.items())))

    def count(self, time: float, instrument: str, value: float, **attributes) -> None:
        labels = tuple(
            (key, str(val)) for key, val in {**attributes, **self.metric_attributes}.items()
        )
        self.pending_counts.append((time, instrument, labels, value))

    def span(
        self,
        name: str,
        window: tuple[float, float],
        parent: int | None,
        failed: bool = False,
        span_id: int | None = None,
        **attributes: str | int | float | bool,
    ) -> int:
        """A beta-trace span of the current trace; returns its span id."""
        span_id = span_id or self.extra.getrandbits(64) or 1
        attributes = {"span.type": name.removeprefix("claude_code."), **attributes}
        self.pending_spans.append(
            (name, window, self.trace_id, span_id, parent, tuple(attributes.items()), failed)
        )
        return span_id

    def last_time(self) -> float:
        times = [event[0] for event in self.pending_events] + [c[0] for c in self.pending_counts]
        return max(times, default=0.0)

    def close(self, process: ClaudeCodeProcess) -> None:
        for time, name, attributes in self.pending_events:
            self.events.append(ClaudeCodeEvent(time, process, name, attributes))
        for time, instrument, labels, value in self.pending_counts:
            self.measurements.append(Measurement(time, process, instrument, labels, value))
        for name, (start, end), trace_id, span_id, parent, attributes, failed in self.pending_spans:
            self.spans.append(
                ClaudeCodeSpan(
                    process, name, start, end, trace_id, span_id, parent, attributes, failed
                )
            )
        self.pending_events, self.pending_counts, self.pending_spans = [], [], []

    def request_attributes(self, query_source: str) -> dict[str, str]:
        """What the cost and token counters carry for a request (absent where not applicable)."""
        attributes = {"query_source": query_source}
        if query_source != "auxiliary":
            attributes.update(self.session)
            attributes.update(self.turn)
        if query_source == "subagent":
            attributes["agent.name"] = self.subagent
        return attributes


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
    query_source: str = "main",
) -> float:
    """Record one API request; returns its duration in seconds."""
    output = int(_lognormal(rng, 550, 0.7)) + 1
    fresh_input = int(_lognormal(rng, 250, 0.8)) + 1
    cache_read = int(context * rng.uniform(0.85, 1.0))
    cache_write = int(_lognormal(rng, 1800, 0.9))
    cost = price.cost(fresh_input, output, cache_read, cache_write, time)
    duration = 0.8 + output / rng.uniform(40, 90)
    labels = recorder.request_attributes(query_source)
    subsystem = {"main": MAIN_QUERY_SOURCE, "subagent": recorder.subagent}.get(
        query_source, AUXILIARY_QUERY_SOURCE
    )
    event_labels = {**labels, "query_source": subsystem, "speed": labels.get("speed", "normal")}
    usage = {
        "input_tokens": fresh_input,
        "output_tokens": output,
        "cache_read_tokens": cache_read,
        "cache_creation_tokens": cache_write,
    }
    recorder.event(
        time,
        "api_request",
        model=price.model,
        cost_usd=cost,
        duration_ms=int(duration * 1000),
        **usage,
        **event_labels,
    )
    recorder.count(time, "claude_code.cost.usage", cost, model=price.model, **labels)
    tokens = {
        "input": fresh_input,
        "output": output,
        "cacheRead": cache_read,
        "cacheCreation": cache_write,
    }
    for token_type, amount in tokens.items():
        recorder.count(
            time, "claude_code.token.usage", amount, type=token_type, model=price.model, **labels
        )
    _request_afterwards(recorder, time, duration, price, subsystem, usage, event_labels)
    return duration


def _request_afterwards(
    recorder: _ClaudeCodeRecorder,
    time: float,
    duration: float,
    price: ModelPrice,
    subsystem: str,
    usage: dict[str, int],
    labels: dict[str, str],
) -> None:
    """The 2026 records of a request: its llm_request span, the response event, a refusal."""
    extra = recorder.extra
    ttft = min(duration * extra.uniform(0.15, 0.5), duration)
    recorder.span(
        "claude_code.llm_request",
        (time, time + duration),
        recorder.parent_span,
        model=price.model,
        **{"gen_ai.system": "anthropic", "gen_ai.request.model": price.model},
        query_source=subsystem,
        speed=labels["speed"],
        duration_ms=int(duration * 1000),
        ttft_ms=int(ttft * 1000),
        attempt=1,
        success=True,
        **usage,
    )
    recorder.event(
        time + duration,
        "assistant_response",
        response_length=usage["output_tokens"] * 4,
        model=price.model,
        query_source=subsystem,
    )
    if extra.random() < 0.01:
        recorder.event(
            time + duration,
            "api_refusal",
            model=price.model,
            query_source=subsystem,
            speed=labels["speed"],
            attempt=1,
            server_fallback_hop=False,
        )


def _tool_use(rng: random.Random, recorder: _ClaudeCodeRecorder, time: float) -> float:
    """One tool call with its permission decision; returns how long it took (seconds)."""
    tool = rng.choice(TOOLS + EDIT_TOOLS)
    source = rng.choices(DECISION_SOURCES, weights=(6, 3, 2, 1))[0]
    decision = "reject" if source == "user_reject" else "accept"
    tool_use_id = f"toolu_{recorder.extra.getrandbits(64):016x}"
    recorder.event(
        time,
        "tool_decision",
        tool_name=tool,
        tool_use_id=tool_use_id,
        decision=decision,
        source=source,
    )
    if tool in EDIT_TOOLS:
        language = rng.choice(LANGUAGES)
        recorder.count(
            time,
            "claude_code.code_edit_tool.decision",
            1,
            decision=decision,
            source=source,
            tool_name=tool,
            language=language,
        )
        if decision == "accept":
            model = recorder.session_model
            recorder.count(
                time,
                "claude_code.lines_of_code.count",
                rng.randint(1, 60),
                type="added",
                model=model,
            )
            recorder.count(
                time,
                "claude_code.lines_of_code.count",
                rng.randint(0, 25),
                type="removed",
                model=model,
            )
    if decision == "reject":
        _hooks(recorder, time, tool, 0.0)
        _tool_spans(recorder, tool, tool_use_id, (time, time), decision, source, None)
        return 0.0
    duration = _lognormal(rng, 0.4 if tool != "Bash" else 4.0, 1.0)
    _hooks(recorder, time, tool, duration)
    success = rng.random() > 0.06
    recorder.event(
        time + duration,
        "tool_result",
        tool_name=tool,
        tool_use_id=tool_use_id,
        success=success,
        duration_ms=int(duration * 1000),
        decision_type="accept",
        decision_source=source,
    )
    _tool_spans(recorder, tool, tool_use_id, (time, time + duration), decision, source, success)
    return duration


def _tool_spans(
    recorder: _ClaudeCodeRecorder,
    tool: str,
    tool_use_id: str,
    window: tuple[float, float],
    decision: str,
    source: str,
    success: bool | None,
) -> None:
    """claude_code.tool with its permission wait and, when accepted, its execution."""
    start, end = window
    tool_span = recorder.span(
        "claude_code.tool",
        window,
        recorder.parent_span,
        tool_name=tool,
        tool_use_id=tool_use_id,
        duration_ms=int((end - start) * 1000),
    )
    recorder.span(
        "claude_code.tool.blocked_on_user",
        (start, start),
        tool_span,
        duration_ms=0,
        decision=decision,
        source=source,
    )
    if success is not None:
        recorder.span(
            "claude_code.tool.execution",
            window,
            tool_span,
            failed=not success,
            tool_use_id=tool_use_id,
            duration_ms=int((end - start) * 1000),
            success=success,
        )


def _hooks(recorder: _ClaudeCodeRecorder, time: float, tool: str, limit: float) -> None:
    """The user's PreToolUse hook: its events and span, within the tool's time (this model does
    not delay the tool by its hooks)."""
    if not recorder.hooks:
        return
    extra = recorder.extra
    duration = min(_lognormal(extra, 0.15, 0.6), limit)
    failed = int(extra.random() < 0.05)
    name = f"{HOOK_EVENT}:{tool}"
    common = {"hook_event": HOOK_EVENT, "hook_name": name, "num_hooks": 1}
    recorder.event(time, "hook_execution_start", **common, hook_source="merged")
    recorder.event(
        time + duration,
        "hook_execution_complete",
        **common,
        num_success=1 - failed,
        num_blocking=0,
        num_non_blocking_error=failed,
        num_cancelled=0,
        total_duration_ms=int(duration * 1000),
        hook_source="merged",
    )
    recorder.span(
        "claude_code.hook",
        (time, time + duration),
        recorder.parent_span,
        failed=bool(failed),
        **common,
        duration_ms=int(duration * 1000),
        num_success=1 - failed,
        num_blocking=0,
        num_non_blocking_error=failed,
        num_cancelled=0,
    )


def _prompt_turn(
    rng: random.Random,
    recorder: _ClaudeCodeRecorder,
    time: float,
    main_model: ModelPrice,
    context: float,
) -> float:
    """A user prompt and the agent loop it starts; returns when the turn ended."""
    prompt_length = int(_lognormal(rng, 180, 1.0)) + 1
    recorder.event(time, "user_prompt", prompt_length=prompt_length)
    interaction = _begin_turn(recorder, time, context)
    typing = rng.uniform(5, 60)
    now = time + rng.uniform(0.2, 1.5)
    if rng.random() < 0.5:
        now += _api_request(rng, recorder, now, HAIKU, 4000, "auxiliary")
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
            speed=recorder.session.get("speed", "normal"),
            query_source=MAIN_QUERY_SOURCE,
        )
        now += 2.0**attempt
    else:
        recorder.event(
            now,
            "api_retries_exhausted",
            model=main_model.model,
            error=f"HTTP {status}",
            status_code=status,
            total_attempts=3,
            total_retry_duration_ms=int(2.0**4 * 1000 - 2000),
            speed=recorder.session.get("speed", "normal"),
        )
    requests = 1 + min(int(rng.expovariate(0.5)), 8)
    subagent_from = _subagent_start(recorder, requests)
    subagent: tuple[float, int] | None = None
    for index in range(requests):
        if index == subagent_from:
            subagent = (now, recorder.extra.getrandbits(64) or 1)
            recorder.parent_span = subagent[1]
        source = "subagent" if subagent else "main"
        now += _api_request(rng, recorder, now, main_model, context, source)
        now += _tool_use(rng, recorder, now)
        if index == 0:
            _mcp_tool(recorder, now)
    if subagent:
        _end_subagent(recorder, subagent, now, interaction)
    recorder.span(
        "claude_code.interaction",
        (time, now),
        None,
        span_id=interaction,
        user_prompt="<REDACTED>",
        user_prompt_length=prompt_length,
        **{"interaction.duration_ms": int((now - time) * 1000)},
    )
    recorder.turn, recorder.parent_span = {}, None
    if rng.random() < 0.08:
        recorder.count(now, "claude_code.commit.count", 1)
        if rng.random() < 0.3:
            recorder.count(now, "claude_code.pull_request.count", 1)
    recorder.count(now, "claude_code.active_time.total", typing, type="user")
    recorder.count(now, "claude_code.active_time.total", now - time, type="cli")
    return now


def _retries_exhausted(recorder: _ClaudeCodeRecorder, time: float, model: str) -> None:
    """A request on `model` that failed with HTTP 529 through all its retries: the last
    attempt's api_error, then api_retries_exhausted."""
    recorder.event(
        time,
        "api_error",
        model=model,
        error="HTTP 529",
        status_code=529,
        duration_ms=60_000,
        attempt=11,
        speed="normal",
        query_source=MAIN_QUERY_SOURCE,
    )
    recorder.event(
        time,
        "api_retries_exhausted",
        model=model,
        error="HTTP 529",
        status_code=529,
        total_attempts=11,
        total_retry_duration_ms=60_000,
        speed="normal",
    )


def _begin_turn(recorder: _ClaudeCodeRecorder, time: float, context: float) -> int:
    """A new trace for the turn, the skill it activates and its @-mentions; returns the
    interaction span's id."""
    extra = recorder.extra
    recorder.trace_id = extra.getrandbits(128) or 1
    interaction = extra.getrandbits(64) or 1
    recorder.parent_span = interaction
    recorder.turn = {}
    recorder.turns += 1
    # Rare failures at a steady rate: an internal error, a request that exhausts its retries.
    if recorder.turns % 200 == 100:
        recorder.event(time, "internal_error", error_name="TypeError", error_code="")
    if recorder.turns % 150 == 75:
        _retries_exhausted(recorder, time, recorder.session_model)
    if context >= 180_000 and not recorder.compacted:
        recorder.compacted = True
        recorder.event(
            time,
            "compaction",
            trigger="auto",
            success=True,
            duration_ms=int(_lognormal(extra, 20_000, 0.3)),
            pre_tokens=int(context),
            post_tokens=int(context * 0.15),
        )
    if extra.random() < SKILL_TURNS:
        skill, plugin, marketplace = extra.choice(SKILLS)
        recorder.turn["skill.name"] = skill
        if plugin:
            recorder.turn["plugin.name"] = plugin
            recorder.turn["marketplace.name"] = marketplace
        recorder.event(
            time,
            "skill_activated",
            **{
                "skill.name": skill if plugin or skill == "pdf" else "custom_skill",
                "invocation_trigger": extra.choice(("user-slash", "claude-proactive")),
                "skill.source": "plugin"
                if plugin
                else "bundled"
                if skill == "pdf"
                else "userSettings",
            },
        )
    if extra.random() < 0.1:
        recorder.event(
            time, "at_mention", mention_type=extra.choice(("file", "directory")), success=True
        )
    return interaction


def _subagent_start(recorder: _ClaudeCodeRecorder, requests: int) -> int:
    """From which of the turn's requests a subagent takes over (-1: none)."""
    if requests < 2 or recorder.extra.random() >= SUBAGENT_TURNS:
        return -1
    recorder.subagent = recorder.extra.choice(SUBAGENTS)[0]
    return requests // 2


def _end_subagent(
    recorder: _ClaudeCodeRecorder, subagent: tuple[float, int], now: float, interaction: int
) -> None:
    """The Agent tool span the subagent's requests and tools nested under, and its end."""
    start, span_id = subagent
    recorder.span(
        "claude_code.tool",
        (start, now),
        interaction,
        span_id=span_id,
        tool_name="Agent",
        tool_use_id=f"toolu_{span_id:016x}",
        duration_ms=int((now - start) * 1000),
    )
    recorder.event(
        now,
        "subagent_completed",
        **{"agent.name": recorder.subagent},
        duration_ms=int((now - start) * 1000),
    )
    recorder.parent_span, recorder.subagent = interaction, ""


def _mcp_tool(recorder: _ClaudeCodeRecorder, time: float) -> None:
    """Some turns run an MCP tool; the requests after it carry its server and tool."""
    if recorder.extra.random() >= MCP_TURNS:
        return
    server, tool = recorder.extra.choice(MCP_TOOLS)
    recorder.turn["mcp_server.name"] = server
    recorder.turn["mcp_tool.name"] = tool
    recorder.event(
        time,
        "tool_result",
        tool_name=f"mcp__{server}__{tool}",
        tool_use_id=f"toolu_{recorder.extra.getrandbits(64):016x}",
        success=True,
        duration_ms=int(_lognormal(recorder.extra, 800, 0.5)),
        decision_type="accept",
        decision_source="config",
        mcp_server_scope="user",
    )


def _begin_process(
    recorder: _ClaudeCodeRecorder, user: ClaudeCodeUser, start: float, model: ModelPrice
) -> None:
    """Per-run settings and the events a run logs as it starts (plugins, hooks, MCP servers)."""
    extra = recorder.extra
    recorder.session_model = model.model
    recorder.session = {"effort": extra.choice(EFFORTS)}
    if model is OPUS and extra.random() < 0.2:
        recorder.session["speed"] = "fast"
    # OTEL_METRICS_INCLUDE_VERSION / _ENTRYPOINT: opted in by some users' settings.
    opted_in = int(user.account_uuid[-1], 16) % 3 == 0
    recorder.metric_attributes = (
        {
            "app.version": CLAUDE_CODE_VERSION,
            "app.entrypoint": "claude-vscode" if user.terminal_type == "vscode" else "cli",
        }
        if opted_in
        else {}
    )
    recorder.compacted = False
    first_run = user.email not in recorder.onboarded
    recorder.onboarded.add(user.email)
    if first_run:
        # A user's first run: signs in, installs the team's plugin, switches permission mode.
        recorder.event(start, "auth", action="login", success=True, auth_method="oauth")
        recorder.event(
            start,
            "plugin_installed",
            **{
                "marketplace.is_official": True,
                "install.trigger": "cli",
                "plugin.name": "frontend-design",
                "marketplace.name": "claude-plugins-official",
            },
        )
    recorder.hooks = first_run or extra.random() < 0.4
    if recorder.hooks:
        recorder.event(
            start,
            "hook_registered",
            hook_event=HOOK_EVENT,
            hook_type="command",
            hook_source="userSettings",
        )
    if first_run or extra.random() < 0.5:
        recorder.event(
            start,
            "plugin_loaded",
            **{
                "plugin.name": "frontend-design",
                "marketplace.name": "claude-plugins-official",
                "plugin.scope": "official",
                "enabled_via": "user-install",
                "plugin_id_hash": "9f2c41d07a5b3e68",
                "has_hooks": False,
                "has_mcp": False,
            },
        )
    for server in ("github", "linear")[: 2 if first_run else extra.randint(0, 2)]:
        failed = extra.random() < 0.05
        recorder.event(
            start,
            "mcp_server_connection",
            status="failed" if failed else "connected",
            transport_type="http" if server == "github" else "stdio",
            server_scope="user",
            duration_ms=int(_lognormal(extra, 400, 0.6)),
            is_plugin=False,
            **({"error_code": "ECONNREFUSED"} if failed else {}),
        )
    if first_run or extra.random() < 0.1:
        recorder.event(
            start + 30,
            "permission_mode_changed",
            from_mode="default",
            to_mode="acceptEdits",
            trigger="shift_tab",
        )


def _run_process(
    rng: random.Random,
    recorder: _ClaudeCodeRecorder,
    session_id: str,
    user: ClaudeCodeUser,
    planned: tuple[float, float],
    main_model: ModelPrice,
    think_time: float,
    start_type: str = "fresh",
    service: str = CLAUDE_CODE_SERVICE,
) -> ClaudeCodeProcess:
    """Play one CLI run; it ends after the last turn that started before the planned end."""
    start, planned_end = planned
    _begin_process(recorder, user, start, main_model)
    recorder.count(start + 0.5, "claude_code.session.count", 1, start_type=start_type)
    now = start + rng.uniform(5, 60)
    context = _lognormal(rng, 15_000, 0.4)
    while now < planned_end - 5:
        now = _prompt_turn(rng, recorder, now, main_model, context)
        context = min(context * rng.uniform(1.02, 1.12), 180_000)
        now += rng.expovariate(1 / think_time)
    process = ClaudeCodeProcess(
        session_id, user, start, max(planned_end, recorder.last_time() + 2), service
    )
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
) -> tuple[list[ClaudeCodeProcess], list[ClaudeCodeEvent], list[Measurement], list[ClaudeCodeSpan]]:
    rng = _rng(scenario, "claude-code")
    recorder = _ClaudeCodeRecorder(_rng(scenario, "claude-code-2026"))
    processes: list[ClaudeCodeProcess] = []
    team = _team(scenario)
    heavy, everyday = LINEUPS[scenario.lineup]
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
                model = heavy if spike or rng.random() < 0.2 else everyday
                think_time = 20.0 if spike else 150.0
                session_id = _uuid(rng)
                service = _service(recorder)
                runs = _session_runs(rng, start, length, scenario.resume_probability)
                for run, (run_start, run_end) in enumerate(runs):
                    if run_end > scenario.end - 2 * HOUR:
                        continue  # keep every run inside the dataset's window
                    processes.append(
                        _run_process(
                            rng,
                            recorder,
                            session_id,
                            user,
                            (run_start, run_end),
                            model,
                            think_time,
                            "resume" if run else "fresh",
                            service,
                        )
                    )
    if scenario.event_burst:
        processes.append(_event_burst(scenario, recorder, team[1 % len(team)], everyday))
    recorder.events.sort(key=lambda event: event.time)
    recorder.measurements.sort(key=lambda measurement: measurement.time)
    recorder.spans.sort(key=lambda span: span.start)
    return processes, recorder.events, recorder.measurements, recorder.spans


# The burst's end: 18:00 UTC on the last day, the `now` the query tests open dashboards at.
BURST_END_BEFORE_END = 6 * HOUR
BURST_REFUSALS = 7
BURST_RETRIES_EXHAUSTED = 4


def _event_burst(
    scenario: Scenario, recorder: _ClaudeCodeRecorder, user: ClaudeCodeUser, model: ModelPrice
) -> ClaudeCodeProcess:
    """A 12-minute run in which the model refuses a task reworded again and again and the API
    stays overloaded through every retry of four requests. Played after every other run and
    drawing from none of their random streams, so the rest of the traffic stays what it was."""
    end = scenario.end - BURST_END_BEFORE_END - 2 * MINUTE
    start = end - 12 * MINUTE
    recorder.metric_attributes, recorder.session = {}, {}
    recorder.count(start + 0.5, "claude_code.session.count", 1, start_type="fresh")
    for index in range(BURST_REFUSALS):
        time = start + MINUTE + index * 90
        recorder.event(time, "user_prompt", prompt_length=180 + 20 * index)
        recorder.event(
            time + 4,
            "api_refusal",
            model=model.model,
            query_source=MAIN_QUERY_SOURCE,
            speed="normal",
            attempt=1,
            server_fallback_hop=False,
        )
    for index in range(BURST_RETRIES_EXHAUSTED):
        time = start + 2 * MINUTE + index * 150
        _retries_exhausted(recorder, time, model.model)
    process = ClaudeCodeProcess(
        _uuid(_rng(scenario, "event-burst")), user, start, end, CLAUDE_CODE_SERVICE
    )
    recorder.close(process)
    return process


def _service(recorder: _ClaudeCodeRecorder) -> str:
    """A quarter of sessions run in Claude Code Desktop, the rest in the CLI."""
    desktop = recorder.extra.random() < 0.25
    return CLAUDE_CODE_DESKTOP_SERVICE if desktop else CLAUDE_CODE_SERVICE


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
            AppProcess(
                profile.service,
                instance,
                version,
                start,
                min(restart, scenario.end),
                profile.conventions,
                profile.team,
                profile.cost_center,
            )
        )
        start = restart + rng.uniform(10, 30)
    return processes


def _traffic_shape(timestamp: float) -> float:
    """Relative request rate: busy in working hours, quiet at night and on weekends."""
    hour = (timestamp % DAY) / HOUR
    working = math.exp(-(((hour - 14.0) / 4.0) ** 2))
    return (0.1 + 0.9 * working) * (0.3 if _is_weekend(timestamp) else 1.0)


def _llm_call(
    rng: random.Random, start: float, price: ModelPrice, operation: str, conventions: str = "v1.37"
) -> LlmCall:
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
    call = LlmCall(
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
    return call if conventions == "v1.37" else _agent_call(rng, call, price, conventions)


def _agent_call(rng: random.Random, call: LlmCall, price: ModelPrice, conventions: str) -> LlmCall:
    """Apps on the other conventions: prompt caching, reasoning, streaming and tool use."""
    cache_read = int(_lognormal(rng, 8000, 0.5)) if conventions != "v1.36" else 0
    cache_write = int(_lognormal(rng, 1200, 0.8)) if conventions != "v1.36" else 0
    reasoning = int(call.output_tokens * rng.uniform(0.0, 0.4)) if conventions == "2026" else 0
    tools = tuple(_lognormal(rng, 0.5, 1.0) for _ in range(rng.randint(0, 3)))
    return dataclasses.replace(
        call,
        cost_usd=price.cost(call.input_tokens, call.output_tokens, cache_read, cache_write),
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
        reasoning_tokens=reasoning,
        time_to_first_token=min(rng.uniform(0.3, 1.2), call.duration),
        tool_durations=tools if conventions != "v1.36" else (),
        agent=AGENT_NAME if conventions == "2026" else "",
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
            llm = _llm_call(
                rng,
                time + rng.uniform(0.005, 0.05),
                price,
                profile.operation,
                profile.conventions,
            )
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
    profiles = [
        (APP_PROFILES[index % len(APP_PROFILES)], index // len(APP_PROFILES) + 1)
        for index in range(scenario.apps)
    ]
    if scenario.unpriced_app:
        profiles.append((UNPRICED_APP, 1))
    for profile, replica in profiles:
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
    processes, events, measurements, spans = simulate_claude_code(scenario)
    app_processes, requests = simulate_apps(scenario)
    return Traffic(
        claude_code_processes=tuple(processes),
        claude_code_events=tuple(events),
        claude_code_measurements=tuple(measurements),
        app_processes=tuple(app_processes),
        app_requests=tuple(requests),
        outages=tuple(simulate_outages(scenario)),
        claude_code_spans=tuple(spans),
    )


def simulate_window(scenario: Scenario, start: float, minutes: float) -> Traffic:
    """Compressed traffic for a live demo: every user in one busy Claude Code session and every
    app serving at a flat `app_requests_per_hour`, all within [start, start + minutes]."""
    end = start + minutes * MINUTE
    rng = _rng(scenario, f"window:{start}")
    recorder = _ClaudeCodeRecorder(_rng(scenario, f"window-2026:{start}"))
    processes = []
    for index, user in enumerate(_team(scenario)):
        run_start = start + rng.uniform(1, min(60.0, minutes * 6))
        model = OPUS if rng.random() < 0.2 else SONNET
        planned = (run_start, max(end - 30, run_start + 30))
        # Every third user works in Claude Code Desktop.
        service = CLAUDE_CODE_DESKTOP_SERVICE if index % 3 == 2 else CLAUDE_CODE_SERVICE
        processes.append(
            _run_process(rng, recorder, _uuid(rng), user, planned, model, 15.0, "fresh", service)
        )
    app_processes, requests = [], []
    for index in range(scenario.apps):
        profile = APP_PROFILES[index % len(APP_PROFILES)]
        process = AppProcess(
            profile.service,
            f"{profile.service}-{index // len(APP_PROFILES) + 1}",
            "1.0.0",
            start,
            end,
            profile.conventions,
            profile.team,
            profile.cost_center,
        )
        app_processes.append(process)
        requests.extend(_requests_of(scenario, profile, process, scenario.users, shaped=False))
    # A turn or request that would finish after the window is not played: the demo keeps to
    # its --minutes.
    return Traffic(
        claude_code_processes=tuple(processes),
        claude_code_events=tuple(
            sorted((e for e in recorder.events if e.time <= end), key=lambda e: e.time)
        ),
        claude_code_measurements=tuple(
            sorted((m for m in recorder.measurements if m.time <= end), key=lambda m: m.time)
        ),
        app_processes=tuple(app_processes),
        app_requests=tuple(
            sorted((r for r in requests if r.time + r.duration <= end), key=lambda r: r.time)
        ),
        outages=(),
        claude_code_spans=tuple(
            sorted((s for s in recorder.spans if s.end <= end), key=lambda s: s.start)
        ),
    )
