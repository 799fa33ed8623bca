"""Agent Sessions (seed 003 "Deliberation", generalised): how agent sessions start, run and end.

The telemetry contract has one agent with sessions: Claude Code. Its metrics carry `session_id`
and it emits events per prompt (a turn), API request and tool call. It has no "session ended"
event and no notion of a session that completed rather than was abandoned, so this dashboard
derives what is honest from what exists, and each panel says how:
- a session is one `session_id`; a resumed session (`claude --resume`) is the same session, but
  a new CLI process, so "sessions started" counts processes;
- a CLI process exports its cumulative metrics every 60 s while it runs (cumulative temporality,
  which the env block we print sets), so a session is active while its series gets samples and
  has ended once they stop; its wall-clock length is its samples times the export interval;
- turns are `user_prompt` events, agent steps `api_request` events, tool calls `tool_result`.
Seed 003's "completion rate" is not shown: nothing tells a finished session from an abandoned one.
"""

from __future__ import annotations

from typing import Final

from grafana_foundation_sdk.builders import dashboard, table

from dashboards.panels import (
    LOKI,
    PROMETHEUS,
    Section,
    build_dashboard,
    logql,
    promql,
    promql_table,
    stat_panel,
    table_panel,
    timeseries_panel,
    top_bars,
)
from dashboards.spec import OPERATIONS_FOLDER, DashboardSpec, without_prices
from vocabulary import measures, names

UID: Final = "llm-agent-sessions"
RANGE: Final = "[$__range]"

SESSIONS: Final = names.CLAUDE_CODE_SESSIONS
COST: Final = names.CLAUDE_CODE_COST
ACTIVE_TIME: Final = names.CLAUDE_CODE_ACTIVE_TIME
# Claude Code's metric export interval (OTEL_METRIC_EXPORT_INTERVAL, default 60000 ms).
EXPORT_INTERVAL_SECONDS: Final = 60
# A running process has at least one sample in any window this long (one export may be late).
ACTIVE_WINDOW: Final = "[2m]"
EVENTS: Final = names.CLAUDE_CODE_EVENTS


# Queries (the number tests import these) ------------------------------------------------------


def sessions_started(window: str) -> str:
    """Claude Code processes started: session.count is 1 per process, so a resume counts again."""
    return measures.increase(SESSIONS, window)


def sessions_seen(window: str) -> str:
    """Distinct sessions with any sample in the window."""
    return f"count(count by (session_id) (count_over_time({SESSIONS}{window})))"


def active_sessions() -> str:
    """Sessions whose process exported in the last two minutes: still running."""
    return f"count(count by (session_id) (last_over_time({SESSIONS}{ACTIVE_WINDOW}))) or vector(0)"


def sessions_ended(window: str) -> str:
    """Sessions seen in the window that are no longer exporting at its end."""
    return f"{sessions_seen(window)} - ({active_sessions()})"


def session_length(window: str) -> str:
    """Mean wall-clock time a session's processes ran in the window: samples x export interval."""
    samples = f"sum by (session_id) (count_over_time({SESSIONS}{window}))"
    return f"avg({samples}) * {EXPORT_INTERVAL_SECONDS}"


def active_time_per_session(window: str) -> str:
    """Mean active seconds per session seen, by type (user typing, cli working)."""
    seen = f"count(count by (session_id) (count_over_time({ACTIVE_TIME}{window})))"
    return f"{measures.increase(ACTIVE_TIME, window, [names.TOKEN_TYPE])} / scalar({seen})"


def top_sessions_by_cost(window: str) -> tuple[str, str]:
    """(cost, wall-clock length) of the 20 most expensive sessions in the window."""
    cost = f"topk(20, sum by (session_id, user_email) (increase({COST}{window})))"
    length = (
        f"sum by (session_id, user_email) (count_over_time({SESSIONS}{window}))"
        f" * {EXPORT_INTERVAL_SECONDS} and on (session_id) {cost}"
    )
    return cost, length


def _events(name: str) -> str:
    return f'{EVENTS} | event_name="{name}"'


def _count(name: str, by: str = "") -> str:
    grouping = f" by ({by})" if by else ""
    return f"sum{grouping} (count_over_time({_events(name)} {RANGE}))"


TURNS_PER_SESSION: Final = f"avg({_count('user_prompt', 'session_id')})"
REQUESTS_PER_TURN: Final = f"{_count('api_request')} / {_count('user_prompt')}"
TOOL_CALLS_PER_TURN: Final = f"{_count('tool_result')} / {_count('user_prompt')}"
TOOL_SUCCESS: Final = (
    f'sum(count_over_time({_events("tool_result")} | success=~"(?i)true" {RANGE}))'
    f" / {_count('tool_result')}"
)
TURNS_BY_USER: Final = f"topk(10, {_count('user_prompt', 'user_email')})"


# Panels ---------------------------------------------------------------------------------------

SOURCE_NOTE: Final = "Claude Code is the agent the telemetry contract gives sessions for."
EXPORT_NOTE: Final = (
    "Assumes Claude Code exports cumulative metrics every 60 s (OTEL_METRIC_EXPORT_INTERVAL): a "
    "process's series gets a sample per export while it runs."
)


def _overview() -> Section:
    return Section(
        None,
        [
            stat_panel(
                "Sessions started",
                "Claude Code CLI processes started in the picker's range (session.count); a "
                f"resumed session starts a new process and counts again. {SOURCE_NOTE}",
                "short",
                promql(sessions_started(RANGE), "started", instant=True),
                width=4,
                decimals=0,
            ),
            stat_panel(
                "Sessions seen",
                "Distinct session ids with any metric sample in the picker's range, resumed "
                f"or not. {SOURCE_NOTE}",
                "short",
                promql(sessions_seen(RANGE), "sessions", instant=True),
                width=4,
                decimals=0,
            ),
            stat_panel(
                "Sessions ended",
                "Sessions seen in the picker's range that stopped exporting before its end "
                "(Claude Code sends no end event: a process that stopped is an ended session). "
                f"Whether it completed its task is not in the telemetry. {EXPORT_NOTE}",
                "short",
                promql(sessions_ended(RANGE), "ended", instant=True),
                width=4,
                decimals=0,
            ),
            stat_panel(
                "Active sessions (at range end)",
                "Sessions whose process exported in the two minutes before the picker's end; "
                f"the sparkline is the same count over the range. {EXPORT_NOTE}",
                "short",
                promql(active_sessions(), "active"),
                width=4,
                decimals=0,
                sparkline=True,
            ),
            stat_panel(
                "Average session length",
                "Mean wall-clock time the sessions' CLI processes ran within the picker's "
                "range: samples per session times the 60 s export interval (within one interval "
                f"per process; the time between a session and its resume is not counted). "
                f"{EXPORT_NOTE}",
                "s",
                promql(session_length(RANGE), "length", instant=True),
                width=4,
                decimals=0,
            ),
            stat_panel(
                "Turns per session",
                "Mean prompts (user_prompt events) per session that had any in the picker's "
                "range: one prompt starts one turn of the agent loop.",
                "short",
                logql(TURNS_PER_SESSION, "turns", instant=True),
                kind=LOKI,
                width=4,
                decimals=1,
            ),
        ],
    )


def _activity() -> Section:
    return Section(
        "Activity",
        [
            timeseries_panel(
                "Active sessions",
                "Sessions whose process exported in the two minutes before each point. "
                + EXPORT_NOTE,
                "short",
                promql(active_sessions(), "active sessions"),
            ),
            timeseries_panel(
                "Sessions started per hour",
                "Claude Code processes started (a resume counts) in each step, as a rate per "
                "hour, from their recorded 5-minute windows.",
                "short",
                promql(measures.sessions_started_per_hour(), "started per hour"),
                interval=measures.MIN_INTERVAL,
            ),
            stat_panel(
                "Active time per session",
                "Mean active seconds per session seen in the picker's range, by type: user "
                "(typing prompts) and cli (the agent working), from claude_code.active_time.",
                "s",
                promql(active_time_per_session(RANGE), "{{type}}", instant=True),
                width=24,
                height=4,
                decimals=0,
            ),
        ],
    )


def _loop() -> Section:
    return Section(
        "Inside the agent loop (Claude Code events in Loki)",
        [
            stat_panel(
                "API requests per turn",
                "Model calls (api_request events) per prompt in the picker's range: how many "
                "steps the agent takes for one user turn.",
                "short",
                logql(REQUESTS_PER_TURN, "requests per turn", instant=True),
                kind=LOKI,
                decimals=1,
            ),
            stat_panel(
                "Tool calls per turn",
                "Tool calls that ran (tool_result events) per prompt in the picker's range.",
                "short",
                logql(TOOL_CALLS_PER_TURN, "tool calls per turn", instant=True),
                kind=LOKI,
                decimals=1,
            ),
            stat_panel(
                "Tool success rate",
                "Share of tool calls in the picker's range whose tool_result says success.",
                "percentunit",
                logql(TOOL_SUCCESS, "success", instant=True),
                kind=LOKI,
                decimals=1,
            ),
            top_bars(
                "Users by turns",
                "The ten users who sent the most prompts in the picker's range.",
                "short",
                logql(TURNS_BY_USER, "{{user_email}}", instant=True),
                kind=LOKI,
                width=6,
            ),
        ],
    )


def costly_sessions_table(title: str, description: str) -> table.Panel:
    """The 20 costliest sessions in the picker's range, with their user and length; the
    session id column is named "Session"."""
    cost, length = top_sessions_by_cost(RANGE)
    return table_panel(
        title,
        description,
        "short",
        promql_table(cost),
        promql_table(length),
        width=24,
        sort_by="Cost (USD)",
        rename={
            "session_id": "Session",
            "user_email": "User",
            "Value #A": "Cost (USD)",
            "Value #B": "Length (s)",
        },
    )


def _sessions_table() -> Section:
    table = costly_sessions_table(
        "Most expensive sessions",
        "The 20 sessions with the highest Claude Code cost in the picker's range, with "
        f"their user and wall-clock length in the range. {EXPORT_NOTE}",
    )
    return Section("Sessions", [table])


def build() -> dashboard.Dashboard:
    return build_dashboard(
        UID,
        "Agent Sessions",
        "Agent sessions from Claude Code's telemetry: started, seen, ended and active sessions, "
        "their length, turns and agent-loop depth. No session-end or completion signal exists: "
        "each panel says how its number is derived.",
        [_overview(), _activity(), _loop(), _sessions_table()],
        kinds=(PROMETHEUS, LOKI),
        tags=["operations", "agents"],
        time_from="now-7d",
    )


SPEC: Final = DashboardSpec(UID, OPERATIONS_FOLDER, without_prices(build))
