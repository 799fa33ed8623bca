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
    claude_code_requests_by_model: dict[str, int] = field(default_factory=dict)
    claude_code_sessions: int = 0
    claude_code_processes: int = 0
    claude_code_prompts: int = 0
    app_cost_by_model_day: dict[tuple[str, str], float] = field(default_factory=dict)
    app_tokens_by_type_model: dict[tuple[str, str], int] = field(default_factory=dict)
    app_requests_by_service_status: dict[tuple[str, int], int] = field(default_factory=dict)
    app_llm_errors_by_type: dict[str, int] = field(default_factory=dict)
    jsonl_cost_by_model_day: dict[tuple[str, str], float] = field(default_factory=dict)

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
    requests: Counter[str] = Counter()
    for event in traffic.claude_code_events:
        if event.name == "user_prompt":
            totals.claude_code_prompts += 1
        if event.name != "api_request":
            continue
        model = str(event.attribute("model"))
        cost[(model, utc_day(event.time))] += float(event.attribute("cost_usd"))
        requests[model] += 1
        for token_type, attribute in _TOKEN_FIELDS.items():
            tokens[(token_type, model)] += int(event.attribute(attribute))
    totals.claude_code_cost_by_model_day = dict(cost)
    totals.claude_code_tokens_by_type_model = dict(tokens)
    totals.claude_code_requests_by_model = dict(requests)
    totals.claude_code_sessions = len({p.session_id for p in traffic.claude_code_processes})
    totals.claude_code_processes = len(traffic.claude_code_processes)


def _app_totals(traffic: Traffic, totals: Totals) -> None:
    cost: dict[tuple[str, str], float] = defaultdict(float)
    jsonl: dict[tuple[str, str], float] = defaultdict(float)
    tokens: Counter[tuple[str, str]] = Counter()
    statuses: Counter[tuple[str, int]] = Counter()
    errors: Counter[str] = Counter()
    for request in traffic.app_requests:
        llm = request.llm
        statuses[(request.process.service, request.status_code)] += 1
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


def true_totals(traffic: Traffic) -> Totals:
    totals = Totals()
    _claude_code_totals(traffic, totals)
    _app_totals(traffic, totals)
    return totals
