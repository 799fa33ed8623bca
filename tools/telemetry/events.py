"""What happened, as plain records: the generator's output before any pipeline shapes it."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ClaudeCodeUser:
    email: str
    account_uuid: str
    organization_id: str
    terminal_type: str
    # OTEL_RESOURCE_ATTRIBUTES of the user's laptop (the fleet settings'): "" when not set.
    team: str = ""
    cost_center: str = ""


@dataclass(frozen=True, slots=True)
class ClaudeCodeProcess:
    """One run of the `claude` CLI. A resumed session is a new process with the same session id."""

    session_id: str
    user: ClaudeCodeUser
    start: float
    end: float
    service: str = "claude-code"  # claude-code-desktop for Claude Code Desktop sessions


@dataclass(frozen=True, slots=True)
class ClaudeCodeEvent:
    """One Claude Code event (an OTLP log record) and the metric increments it implies."""

    time: float
    process: ClaudeCodeProcess
    name: str  # user_prompt | api_request | api_error | tool_decision | tool_result | ...
    attributes: tuple[tuple[str, str | int | float | bool], ...]

    def attribute(self, key: str) -> str | int | float | bool:
        for name, value in self.attributes:
            if name == key:
                return value
        raise KeyError(key)


@dataclass(frozen=True, slots=True)
class Measurement:
    """One recording on a Claude Code counter (instrument name as the SDK knows it)."""

    time: float
    process: ClaudeCodeProcess
    instrument: str
    attributes: tuple[tuple[str, str], ...]
    value: float


@dataclass(frozen=True, slots=True)
class ClaudeCodeSpan:
    """One span of Claude Code's beta traces (CLAUDE_CODE_ENHANCED_TELEMETRY_BETA=1)."""

    process: ClaudeCodeProcess
    name: str  # claude_code.interaction | .llm_request | .tool | .tool.blocked_on_user | ...
    start: float
    end: float
    trace_id: int
    span_id: int
    parent_id: int | None
    attributes: tuple[tuple[str, str | int | float | bool], ...]
    failed: bool = False

    def attribute(self, key: str) -> str | int | float | bool:
        for name, value in self.attributes:
            if name == key:
                return value
        raise KeyError(key)


@dataclass(frozen=True, slots=True)
class AppProcess:
    """One process of an instrumented LLM app; a restart keeps the instance id (a counter reset)."""

    service: str
    instance: str
    version: str
    start: float
    end: float
    # Which GenAI conventions the app's instrumentation follows (simulate.CONVENTIONS).
    conventions: str = "v1.37"
    team: str = ""  # resource attributes, as for ClaudeCodeUser
    cost_center: str = ""


def team_attributes(source: ClaudeCodeUser | AppProcess) -> tuple[tuple[str, str], ...]:
    """The `team` and `cost_center` resource attributes a laptop or an app sets (none: empty)."""
    return tuple(
        (name, value)
        for name, value in (("team", source.team), ("cost_center", source.cost_center))
        if value
    )


@dataclass(frozen=True, slots=True)
class LlmCall:
    model: str
    provider: str
    operation: str
    input_tokens: int
    output_tokens: int
    cost_usd: float
    start: float
    duration: float
    error_type: str | None
    # Prompt caching and reasoning (agent apps); `input_tokens` excludes cached tokens.
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0  # part of output_tokens
    time_to_first_token: float = 0.0
    tool_durations: tuple[float, ...] = ()  # tools the agent ran during the call
    agent: str = ""


@dataclass(frozen=True, slots=True)
class AppRequest:
    """One HTTP request an app served, with the LLM call it made and its trace id."""

    process: AppProcess
    time: float
    method: str
    route: str
    status_code: int
    duration: float
    llm: LlmCall
    trace_id: int
    user: str
    writes_jsonl: bool
    # Apps instrumented without a cost metric (OpenLLMetry) report tokens only.
    reports_cost: bool = True


@dataclass(frozen=True, slots=True)
class Outage:
    """A scrape target down for a while (up == 0), so health alerts have something to see."""

    job: str
    start: float
    end: float


@dataclass(frozen=True)
class Traffic:
    """Everything the generator produced, in time order within each list."""

    claude_code_processes: tuple[ClaudeCodeProcess, ...]
    claude_code_events: tuple[ClaudeCodeEvent, ...]
    claude_code_measurements: tuple[Measurement, ...]
    app_processes: tuple[AppProcess, ...]
    app_requests: tuple[AppRequest, ...]
    outages: tuple[Outage, ...]
    claude_code_spans: tuple[ClaudeCodeSpan, ...] = ()
