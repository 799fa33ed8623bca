"""The true totals of a Traffic, computed from the events themselves.

Nothing here looks at the series Prometheus stores or at PromQL: tests compare the two, so the
truth must come from the other side.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tools.telemetry.events import Traffic


def utc_day(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).date().isoformat()


@dataclass
class Totals:
    """What really happened; `cost_by_model_day` maps (model, YYYY-MM-DD) to USD."""

    claude_code_cost_by_model_day: dict[tuple[str, str], float] = field(default_factory=dict)
    claude_code_tokens_by_type_model: dict[tuple[str, str], int] = field(default_factory=dict)
    # (token type, model, YYYY-MM-DD) -> tokens.
    claude_code_tokens_by_type_model_day: dict[tuple[str, str, str], int] = field(
        default_factory=dict
    )
    claude_code_requests_by_model: dict[str, int] = field(default_factory=dict)
    claude_code_sessions: int = 0
    claude_code_processes: int = 0
    claude_code_prompts: int = 0
    # Claude Code 2026: spend by the counters' query_source (main | subagent | auxiliary), by
    # subagent (agent.name; requests of no subagent are absent), by service (claude-code and
    # claude-code-desktop), and the llm_request spans' time to first token.
    claude_code_cost_by_query_source: dict[str, float] = field(default_factory=dict)
    claude_code_cost_by_agent: dict[str, float] = field(default_factory=dict)
    claude_code_cost_by_service: dict[str, float] = field(default_factory=dict)
    claude_code_sessions_by_service: dict[str, int] = field(default_factory=dict)
    claude_code_events_by_name: dict[str, int] = field(default_factory=dict)
    claude_code_spans_by_name: dict[str, int] = field(default_factory=dict)
    claude_code_ttft_ms: list[int] = field(default_factory=list)
    # Spend and tokens by the user's email and by team (users without a team are left out).
    claude_code_cost_by_user: dict[str, float] = field(default_factory=dict)
    claude_code_cost_by_team: dict[str, float] = field(default_factory=dict)
    claude_code_tokens_by_user: dict[str, int] = field(default_factory=dict)
    claude_code_tokens_by_team: dict[str, int] = field(default_factory=dict)
    app_cost_by_model_day: dict[tuple[str, str], float] = field(default_factory=dict)
    app_tokens_by_type_model: dict[tuple[str, str], int] = field(default_factory=dict)
    app_requests_by_service_status: dict[tuple[str, int], int] = field(default_factory=dict)
    app_llm_errors_by_type: dict[str, int] = field(default_factory=dict)
    jsonl_cost_by_model_day: dict[tuple[str, str], float] = field(default_factory=dict)
    # Apps by the GenAI conventions they follow (AppProcess.conventions): USD, and tokens by
    # (conventions, kind) with kind input (fresh), output (reasoning included), cache_read,
    # cache_write, reasoning.
    app_cost_by_conventions: dict[str, float] = field(default_factory=dict)
    app_cost_by_team: dict[str, float] = field(default_factory=dict)
    app_tokens_by_conventions_kind: dict[tuple[str, str], int] = field(default_factory=dict)

    @staticmethod
    def by_model(cost_by_model_day: dict[tuple[str, str], float]) -> dict[str, float]:
        totals: dict[str, float] = defaultdict(float)
        for (model, _day), cost in cost_by_model_day.items():
            totals[model] += cost
        return dict(totals)

    @property
    def claude_code_cost_by_model(self) -> dict[str, float]:
        return self.by_model(self.claude_code_cost_by_model_day)

    @property
    def app_cost_by_model(self) -> dict[str, float]:
        return self.by_model(self.app_cost_by_model_day)


_TOKEN_FIELDS = {
    "input": "input_tokens",
    "output": "output_tokens",
    "cacheRead": "cache_read_tokens",
    "cacheCreation": "cache_creation_tokens",
}


def _claude_code_totals(traffic: Traffic, totals: Totals) -> None:
    cost: dict[tuple[str, str], float] = defaultdict(float)
    tokens: Counter[tuple[str, str]] = Counter()
    tokens_by_day: Counter[tuple[str, str, str]] = Counter()
    requests: Counter[str] = Counter()
    by_source: dict[str, float] = defaultdict(float)
    by_agent: dict[str, float] = defaultdict(float)
    by_service: dict[str, float] = defaultdict(float)
    by_user: dict[str, float] = defaultdict(float)
    by_team: dict[str, float] = defaultdict(float)
    tokens_by_user: Counter[str] = Counter()
    tokens_by_team: Counter[str] = Counter()
    names: Counter[str] = Counter()
    for event in traffic.claude_code_events:
        names[event.name] += 1
        if event.name == "user_prompt":
            totals.claude_code_prompts += 1
        if event.name != "api_request":
            continue
        attributes = dict(event.attributes)
        spent = float(attributes["cost_usd"])
        by_source[_query_source(str(attributes["query_source"]), "agent.name" in attributes)] += (
            spent
        )
        if "agent.name" in attributes:
            by_agent[str(attributes["agent.name"])] += spent
        by_service[event.process.service] += spent
        user = event.process.user
        used = sum(int(event.attribute(attribute)) for attribute in _TOKEN_FIELDS.values())
        by_user[user.email] += spent
        tokens_by_user[user.email] += used
        if user.team:
            by_team[user.team] += spent
            tokens_by_team[user.team] += used
        model = str(event.attribute("model"))
        cost[(model, utc_day(event.time))] += float(event.attribute("cost_usd"))
        requests[model] += 1
        for token_type, attribute in _TOKEN_FIELDS.items():
            tokens[(token_type, model)] += int(event.attribute(attribute))
            tokens_by_day[(token_type, model, utc_day(event.time))] += int(
                event.attribute(attribute)
            )
    totals.claude_code_cost_by_model_day = dict(cost)
    totals.claude_code_tokens_by_type_model = dict(tokens)
    totals.claude_code_tokens_by_type_model_day = dict(tokens_by_day)
    totals.claude_code_requests_by_model = dict(requests)
    totals.claude_code_sessions = len({p.session_id for p in traffic.claude_code_processes})
    totals.claude_code_processes = len(traffic.claude_code_processes)
    totals.claude_code_cost_by_query_source = dict(by_source)
    totals.claude_code_cost_by_agent = dict(by_agent)
    totals.claude_code_cost_by_service = dict(by_service)
    totals.claude_code_cost_by_user = dict(by_user)
    totals.claude_code_cost_by_team = dict(by_team)
    totals.claude_code_tokens_by_user = dict(tokens_by_user)
    totals.claude_code_tokens_by_team = dict(tokens_by_team)
    sessions: dict[str, set[str]] = defaultdict(set)
    for process in traffic.claude_code_processes:
        sessions[process.service].add(process.session_id)
    totals.claude_code_sessions_by_service = {k: len(v) for k, v in sessions.items()}
    totals.claude_code_events_by_name = dict(names)
    totals.claude_code_spans_by_name = dict(Counter(s.name for s in traffic.claude_code_spans))
    totals.claude_code_ttft_ms = [
        int(s.attribute("ttft_ms"))
        for s in traffic.claude_code_spans
        if s.name == "claude_code.llm_request"
    ]


def _query_source(subsystem: str, subagent: bool) -> str:
    """The counters' query_source of an api_request event, whose query_source is the subsystem
    (repl_main_thread, a subagent's name, or an auxiliary one)."""
    if subagent:
        return "subagent"
    return "main" if subsystem == "repl_main_thread" else "auxiliary"


def _app_totals(traffic: Traffic, totals: Totals) -> None:
    cost: dict[tuple[str, str], float] = defaultdict(float)
    jsonl: dict[tuple[str, str], float] = defaultdict(float)
    tokens: Counter[tuple[str, str]] = Counter()
    statuses: Counter[tuple[str, int]] = Counter()
    errors: Counter[str] = Counter()
    by_conventions: dict[str, float] = defaultdict(float)
    by_team: dict[str, float] = defaultdict(float)
    kinds: Counter[tuple[str, str]] = Counter()
    for request in traffic.app_requests:
        llm = request.llm
        statuses[(request.process.service, request.status_code)] += 1
        if not llm.error_type:
            conventions = request.process.conventions
            by_conventions[conventions] += llm.cost_usd
            if request.process.team:
                by_team[request.process.team] += llm.cost_usd
            for kind, amount in (
                ("input", llm.input_tokens),
                ("output", llm.output_tokens),
                ("cache_read", llm.cache_read_tokens),
                ("cache_write", llm.cache_write_tokens),
                ("reasoning", llm.reasoning_tokens),
            ):
                kinds[(conventions, kind)] += amount
        if llm.error_type:
            errors[llm.error_type] += 1
            continue
        day = utc_day(llm.start + llm.duration)
        cost[(llm.model, day)] += llm.cost_usd
        tokens[("input", llm.model)] += llm.input_tokens
        tokens[("output", llm.model)] += llm.output_tokens
        if request.writes_jsonl:
            jsonl[(llm.model, day)] += llm.cost_usd
    totals.app_cost_by_model_day = dict(cost)
    totals.app_tokens_by_type_model = dict(tokens)
    totals.app_requests_by_service_status = dict(statuses)
    totals.app_llm_errors_by_type = dict(errors)
    totals.jsonl_cost_by_model_day = dict(jsonl)
    totals.app_cost_by_conventions = dict(by_conventions)
    totals.app_cost_by_team = dict(by_team)
    totals.app_tokens_by_conventions_kind = dict(kinds)


def true_totals(traffic: Traffic) -> Totals:
    totals = Totals()
    _claude_code_totals(traffic, totals)
    _app_totals(traffic, totals)
    return totals
