"""Agent rules: a Claude Code session or subagent running away with cost, and bursts of refused
requests or of requests that gave up after their retries.

The cost rules read Claude Code's cost counter: a session from its raw per-session series (the
recorded series sum sessions away), a subagent from the recorded counter, which keeps
`query_source` and `agent_name`. Refusals and exhausted retries exist only as events: a
Grafana-managed recording rule counts them out of Loki into Prometheus every 5 minutes
(vocabulary/event_counts.py), and those rules are PromQL on the counts, per user.
"""

from __future__ import annotations

from alerts.base import (
    AGENTS_DASHBOARD,
    AGENTS_GROUP,
    PER_SERIES_STATES,
    AlertRule,
    PanelLink,
    Threshold,
    label,
    shown,
    usd,
)
from components.settings import AlertThresholds
from vocabulary import event_counts, measures, names
from vocabulary.event_counts import EventCount
from vocabulary.windows import observed_increase

# A runaway is judged on its recent pace: the last 15 minutes, as USD per hour.
PACE_WINDOW = "[15m]"
PACE_PER_HOUR = 4
BURST_WINDOW = "[15m]"
SUBAGENT = f'{{{names.QUERY_SOURCE}="subagent"}}'


def session_pace() -> str:
    """USD per hour each session spent at over the last 15 minutes (raw per-session series)."""
    grouping = f"{names.SESSION}, {names.USER}"
    increase = observed_increase(names.CLAUDE_CODE_COST, PACE_WINDOW)
    return f"sum by ({grouping}) ({increase}) * {PACE_PER_HOUR}"


def subagent_spend_last_hour() -> str:
    """USD each user's subagents spent in the last hour, by subagent (recorded counter)."""
    return measures.increase(names.CLAUDE_CODE_COST, "[1h]", [names.USER, names.AGENT], SUBAGENT)


def event_burst(count: EventCount) -> str:
    """Each user's events in the last three recorded windows (15 minutes of events)."""
    return event_counts.events_in(count, BURST_WINDOW, (names.USER,))


def agent_rules(t: AlertThresholds) -> list[AlertRule]:
    user, session, agent = label(names.USER), label(names.SESSION), label(names.AGENT)
    return [
        AlertRule(
            uid="llm-o11y-runaway-session",
            title="Claude Code session running away with cost",
            group=AGENTS_GROUP,
            severity="warning",
            datasource="prometheus",
            query=session_pace(),
            window_seconds=900,
            threshold=Threshold("gt", (t.runaway_session_usd_per_hour,)),
            pending="0s",
            states=PER_SERIES_STATES,
            summary="A Claude Code session is spending faster than the runaway limit.",
            description=f"Session {session} of {user} spent at ${shown('%.2f')} per hour over "
            f"the last 15 minutes; the limit is {usd(t.runaway_session_usd_per_hour)} per hour.",
            panel=PanelLink(AGENTS_DASHBOARD, "Costliest sessions and their traces"),
        ),
        AlertRule(
            uid="llm-o11y-runaway-subagent",
            title="Claude Code subagent running away with cost",
            group=AGENTS_GROUP,
            severity="warning",
            datasource="prometheus",
            query=subagent_spend_last_hour(),
            window_seconds=3600,
            threshold=Threshold("gt", (t.runaway_subagent_usd_per_hour,)),
            pending="0s",
            states=PER_SERIES_STATES,
            summary="A user's Claude Code subagent spent more in an hour than the limit.",
            description=f"Subagent {agent} of {user} spent ${shown('%.2f')} in the last hour; "
            f"the limit is {usd(t.runaway_subagent_usd_per_hour)} per hour.",
            panel=PanelLink(AGENTS_DASHBOARD, "Spend and tokens by subagent"),
        ),
        AlertRule(
            uid="llm-o11y-refusal-burst",
            title="Claude Code refusals burst",
            group=AGENTS_GROUP,
            severity="warning",
            datasource="prometheus",
            query=event_burst(event_counts.REFUSALS),
            window_seconds=900,
            threshold=Threshold("gt", (t.refusals_in_15_minutes,)),
            pending="0s",
            states=PER_SERIES_STATES,
            summary="The model refused many of a user's Claude Code requests.",
            description=f"{user} had {shown('%.0f')} refused requests (api_refusal) in the last "
            f"15 minutes; the limit is {t.refusals_in_15_minutes}.",
            panel=PanelLink(AGENTS_DASHBOARD, "Refusals and exhausted retries"),
        ),
        AlertRule(
            uid="llm-o11y-retries-exhausted-burst",
            title="Claude Code exhausted retries burst",
            group=AGENTS_GROUP,
            severity="warning",
            datasource="prometheus",
            query=event_burst(event_counts.RETRIES_EXHAUSTED),
            window_seconds=900,
            threshold=Threshold("gt", (t.exhausted_retries_in_15_minutes,)),
            pending="0s",
            states=PER_SERIES_STATES,
            summary="Many of a user's Claude Code requests gave up after all their retries.",
            description=f"{user} had {shown('%.0f')} requests that exhausted their retries "
            f"(api_retries_exhausted) in the last 15 minutes; the limit is "
            f"{t.exhausted_retries_in_15_minutes}.",
            panel=PanelLink(AGENTS_DASHBOARD, "Refusals and exhausted retries"),
        ),
    ]
