"""Claude Code Agents & Tools: where agentic spend goes and how the agent loop behaves.

Spend and tokens come from the recorded cost and token counters (vocabulary/measures.py), which
keep Claude Code's 2026 request attributes: `query_source` (main, subagent, auxiliary), the
subagent, skill, plugin, MCP server and tool, effort and speed. Refusals, exhausted retries,
compactions, hooks, MCP connections and subagent completions are events (LogQL on Loki). Time to
first token and request latency come from the beta traces (TraceQL metrics on Tempo), and a
session in the costliest-sessions table links to its traces.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from grafana_foundation_sdk.builders import dashboard, timeseries
from grafana_foundation_sdk.models import dashboard as dashboard_models

from components.datasources import TEMPO_UID
from dashboards import agent_sessions
from dashboards.panels import (
    LOKI,
    PICKER_RANGE,
    PROMETHEUS,
    TEMPO,
    Section,
    Window,
    build_dashboard,
    logql,
    pie_panel,
    promql,
    promql_table,
    table_panel,
    timeseries_panel,
    traceql,
    traces_panel,
)
from dashboards.spec import OPERATIONS_FOLDER, DashboardSpec, without_prices
from vocabulary import measures, names

UID: Final = "llm-agents-tools"
RANGE: Final = PICKER_RANGE
STEP: Final = "[$__interval]"
LOG_RANGE: Final = "[$__range]"
COST: Final = names.CLAUDE_CODE_COST
TOKENS: Final = names.CLAUDE_CODE_TOKENS


# Queries (the tests import these) -------------------------------------------------------------


def _present(label: str) -> str:
    """Only requests that carry `label` (a subagent's, a skill's...): the rest have it empty."""
    return f'{{{label}!=""}}'


def spend_by(by: Sequence[str], window: Window | str = RANGE) -> str:
    """Claude Code USD by request attributes, from the recorded cost counter (the spend record
    keeps only the spend labels; Claude Code's spend is its cost metric)."""
    return measures.increase(COST, window, by, _present(by[-1]))


def tokens_by(by: Sequence[str], window: Window | str = RANGE) -> str:
    return measures.increase(TOKENS, window, by, _present(by[-1]))


def spend_per_hour_by_query_source() -> str:
    step = Window("$__interval")
    return f"{spend_by([names.QUERY_SOURCE], step)} * 3600 / ($__interval_ms / 1000)"


def events(*event_names: str) -> str:
    matcher = "|".join(event_names)
    return f'{names.CLAUDE_CODE_EVENTS} | {names.EVENT_NAME}=~"{matcher}"'


def event_count(window: str, by: Sequence[str], *event_names: str, filters: str = "") -> str:
    grouping = f" by ({', '.join(by)})" if by else ""
    return f"sum{grouping} (count_over_time({events(*event_names)}{filters} {window}))"


REFUSALS_AND_EXHAUSTED_RETRIES: Final = event_count(
    STEP, [names.EVENT_NAME, "model"], names.API_REFUSAL, names.API_RETRIES_EXHAUSTED
)
COMPACTIONS: Final = event_count(STEP, ["trigger", "success"], names.COMPACTION)
HOOK_P95_MS: Final = (
    f"quantile_over_time(0.95, {events(names.HOOK_COMPLETE)} | unwrap total_duration_ms "
    f"{STEP}) by (hook_event)"
)
# A hook that errored (not one that blocked on purpose) or was cancelled.
HOOK_FAILURES: Final = (
    f"sum by (hook_event) (sum_over_time({events(names.HOOK_COMPLETE)} "
    f"| unwrap num_non_blocking_error {LOG_RANGE})) + sum by (hook_event) "
    f"(sum_over_time({events(names.HOOK_COMPLETE)} | unwrap num_cancelled {LOG_RANGE}))"
)
MCP_CONNECTION_FAILURES: Final = event_count(
    STEP, ["transport_type", "server_scope"], names.MCP_CONNECTION, filters=' | status="failed"'
)
SUBAGENT_COMPLETIONS: Final = event_count(LOG_RANGE, [names.AGENT], names.SUBAGENT_COMPLETED)
SUBAGENT_P95_MS: Final = (
    f"quantile_over_time(0.95, {events(names.SUBAGENT_COMPLETED)} | unwrap duration_ms "
    f"{LOG_RANGE}) by ({names.AGENT})"
)

LLM_REQUESTS: Final = f'{{ name = "{names.CLAUDE_CODE_LLM_SPAN}" }}'
TTFT_QUANTILES: Final = (
    f"{LLM_REQUESTS} | quantile_over_time({names.SPAN_TTFT_MS}, 0.5, 0.95) by (span.model)"
)
LATENCY_QUANTILES: Final = (
    f"{LLM_REQUESTS} | quantile_over_time(duration, 0.5, 0.95) by (span.model)"
)
SLOW_FIRST_TOKENS: Final = (
    f'{{ name = "{names.CLAUDE_CODE_LLM_SPAN}" && {names.SPAN_TTFT_MS} > 5000 }} | '
    f"select({names.SPAN_TTFT_MS}, span.model, span.query_source, {names.SPAN_SESSION})"
)


def session_traces(session: str) -> str:
    """TraceQL for every turn (interaction span) of one session: the costly session's link."""
    return (
        f'{{ name = "{names.CLAUDE_CODE_INTERACTION_SPAN}" && {names.SPAN_SESSION} = "{session}" }}'
    )


# The table cell's value: Grafana fills it in when the link is followed.
SESSION_LINK_QUERY: Final = session_traces("${__value.raw}")


def session_trace_link() -> dict[str, Any]:
    """A data link from a session id cell to Tempo's search for that session's traces."""
    return {
        "title": "Traces of this session",
        "url": "",
        "internal": {
            "datasourceUid": TEMPO_UID,
            "datasourceName": "Tempo",
            "query": {"queryType": "traceql", "query": SESSION_LINK_QUERY, "limit": 20},
        },
    }


# Panels ---------------------------------------------------------------------------------------

RECORDED_NOTE: Final = (
    "From Claude Code's cost and token counters (recorded 5-minute windows), CLI and Desktop "
    "together; requests without the attribute are left out."
)
EVENTS_NOTE: Final = "Claude Code events in Loki (CLI and Desktop)."
TRACES_NOTE: Final = (
    "From Claude Code's beta traces (CLAUDE_CODE_ENHANCED_TELEMETRY_BETA=1) via TraceQL metrics; "
    "empty for users without the beta."
)


def _breakdown(title: str, what: str, by: Sequence[str], rename: dict[str, str]) -> Any:
    return table_panel(
        f"Spend and tokens by {title}",
        f"USD and tokens by {what} in the picker's range. {RECORDED_NOTE}",
        "short",
        promql_table(spend_by(by)),
        promql_table(tokens_by(by)),
        width=8,
        sort_by="Spend (USD)",
        rename={**rename, "Value #A": "Spend (USD)", "Value #B": "Tokens"},
    )


def _spend() -> Section:
    return Section(
        "Spend and tokens by who asked",
        [
            pie_panel(
                "Spend by query source",
                "USD of the main loop, subagents and auxiliary requests (titles, summaries) in "
                f"the picker's range. {RECORDED_NOTE}",
                "currencyUSD",
                promql(spend_by([names.QUERY_SOURCE]), "{{query_source}}", instant=True),
            ),
            timeseries_panel(
                "Spend per hour by query source",
                f"USD per hour over each step. {RECORDED_NOTE}",
                "currencyUSD",
                promql(spend_per_hour_by_query_source(), "{{query_source}}"),
                width=16,
                stacked=True,
                interval=measures.MIN_INTERVAL,
            ),
            _breakdown("subagent", "subagent (agent.name)", [names.AGENT], {names.AGENT: "Agent"}),
            _breakdown("skill", "skill active in the turn", [names.SKILL], {names.SKILL: "Skill"}),
            _breakdown("plugin", "plugin", [names.PLUGIN], {names.PLUGIN: "Plugin"}),
            _breakdown(
                "MCP server and tool",
                "MCP server and tool the turn called",
                [names.MCP_SERVER, names.MCP_TOOL],
                {names.MCP_SERVER: "MCP server", names.MCP_TOOL: "MCP tool"},
            ),
            _breakdown(
                "effort and speed",
                "the session's effort level and speed",
                [names.SPEED, names.EFFORT],
                {names.EFFORT: "Effort", names.SPEED: "Speed"},
            ),
            _breakdown(
                "query source",
                "query source",
                [names.QUERY_SOURCE],
                {names.QUERY_SOURCE: "Query source"},
            ),
        ],
    )


def _event_counts(title: str, description: str, query: str, legend: str) -> timeseries.Panel:
    """Events per step from Loki, as stacked bars."""
    return timeseries_panel(
        title, description, "short", logql(query, legend), kind=LOKI, bars=True, stacked=True
    )


def _events() -> Section:
    return Section(
        "The agent loop (events)",
        [
            _event_counts(
                "Refusals and exhausted retries",
                "api_refusal (the model refused) and api_retries_exhausted (a request gave up "
                f"after its retries) per step, by model. {EVENTS_NOTE}",
                REFUSALS_AND_EXHAUSTED_RETRIES,
                "{{event_name}} {{model}}",
            ),
            _event_counts(
                "Compactions",
                "Context compactions per step, by trigger (auto, manual) and success. "
                + EVENTS_NOTE,
                COMPACTIONS,
                "{{trigger}} success={{success}}",
            ),
            _event_counts(
                "MCP connection failures",
                "mcp_server_connection events with status failed per step, by transport and "
                f"server scope. {EVENTS_NOTE}",
                MCP_CONNECTION_FAILURES,
                "{{transport_type}} {{server_scope}}",
            ),
            timeseries_panel(
                "Hook duration (P95)",
                "95th percentile of hook_execution_complete's total_duration_ms per step, by "
                f"hook event (PreToolUse, Stop...). {EVENTS_NOTE}",
                "ms",
                logql(HOOK_P95_MS, "{{hook_event}}"),
                kind=LOKI,
            ),
            table_panel(
                "Hook failures",
                "Hooks that ended in a non-blocking error or were cancelled in the picker's "
                f"range, by hook event (a hook that blocks on purpose is not a failure). "
                f"{EVENTS_NOTE}",
                "short",
                logql(HOOK_FAILURES, instant=True),
                kind=LOKI,
                width=6,
                rename={"hook_event": "Hook event", "Value #A": "Failures"},
            ),
            table_panel(
                "Subagent completions",
                "subagent_completed events in the picker's range and their P95 run time, by "
                f"subagent. {EVENTS_NOTE}",
                "short",
                logql(SUBAGENT_COMPLETIONS, instant=True),
                logql(SUBAGENT_P95_MS, instant=True),
                kind=LOKI,
                width=6,
                sort_by="Completions",
                rename={names.AGENT: "Agent", "Value #A": "Completions", "Value #B": "P95 (ms)"},
            ),
        ],
    )


def _traces() -> Section:
    return Section(
        "Requests from the traces (beta)",
        [
            timeseries_panel(
                "Time to first token (P50, P95)",
                f"ttft_ms of claude_code.llm_request spans by model. {TRACES_NOTE}",
                "ms",
                traceql(TTFT_QUANTILES),
                kind=TEMPO,
            ),
            timeseries_panel(
                "Request latency (P50, P95)",
                f"Duration of claude_code.llm_request spans by model. {TRACES_NOTE}",
                "s",
                traceql(LATENCY_QUANTILES),
                kind=TEMPO,
            ),
            traces_panel(
                "Slow first tokens (> 5 s)",
                "Model requests whose first token took over 5 s, with model, query source and "
                "session; open one for the whole turn.",
                traceql(SLOW_FIRST_TOKENS),
            ),
        ],
    )


def _costly_sessions() -> Section:
    link = dashboard_models.DynamicConfigValue("links", [session_trace_link()])
    panel = agent_sessions.costly_sessions_table(
        "Costliest sessions and their traces",
        "The 20 sessions with the highest Claude Code cost in the picker's range (per-session "
        "series: sessions are not recorded). Click a session id for its traces in Tempo "
        "(sessions with the beta traces on).",
    ).override_by_name("Session", [link])  # the column as renamed by the table
    return Section("Costly sessions", [panel])


def build() -> dashboard.Dashboard:
    return build_dashboard(
        UID,
        "Claude Code Agents & Tools",
        "Claude Code spend and tokens by query source, subagent, skill, plugin, MCP server and "
        "tool, effort and speed; refusals, exhausted retries, compactions, hooks, MCP connection "
        "failures and subagent completions; time to first token and latency from the beta "
        "traces; the costliest sessions with links to their traces.",
        [_spend(), _events(), _traces(), _costly_sessions()],
        kinds=(PROMETHEUS, LOKI, TEMPO),
        tags=["operations", "agents", "claude-code"],
        time_from="now-7d",
    )


SPEC: Final = DashboardSpec(UID, OPERATIONS_FOLDER, without_prices(build))
