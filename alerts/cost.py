"""Spend rules: daily and monthly budgets, burn rate, anomaly, cost per call and per session.

Every spend figure is vocabulary.measures.spend() over the recorded series, the same measure the
"Spend today" panel and the cost report read: Claude Code, the apps' own cost, and apps that
report only tokens priced from the pricing table. The daily budget is per UTC day, as the panel
it links and the report count it.
"""

from __future__ import annotations

from alerts.base import (
    COST_DASHBOARD,
    COST_GROUP,
    DOLLARS,
    OPERATION,
    PER_SERIES_STATES,
    SERVICE,
    SESSIONS_DASHBOARD,
    SPEND_STATES,
    AlertRule,
    PanelLink,
    States,
    Threshold,
    label,
    shown,
    usd,
)
from components.settings import AlertThresholds, TeamBudget
from vocabulary import measures, names
from vocabulary.pricing import PricingTable
from vocabulary.windows import Window, observed_increase

BY_OPERATION = [names.SERVICE, names.OPERATION]


def spend_forecast() -> str:
    """This month's spend at the last 7 days' daily average."""
    return f"{measures.spend_or_zero('[7d]')} / 7 * days_in_month()"


def spend_anomaly_ratio(floor_usd: float) -> str:
    """Last hour's spend over the average of the same hour on each of the 7 days before."""
    same_hours = " + ".join(measures.spend_or_zero(Window("1h", f"{day}d")) for day in range(1, 8))
    return f"{measures.spend_or_zero('[1h]')} / clamp_min(({same_hours}) / 7, {floor_usd:g})"


def cost_per_operation() -> str:
    """An app operation's USD per priced call in the last hour (token-only apps priced)."""
    return measures.cost_per_call("[1h]", BY_OPERATION)


def session_cost() -> str:
    """Per session, from the raw per-session series (the recorded ones sum sessions away)."""
    grouping = f"{names.SESSION}, {names.USER}"
    return f"sum by ({grouping}) ({observed_increase(names.CLAUDE_CODE_COST, '[24h]')})"


def _team_budgets(budgets: dict[str, TeamBudget], amount: str) -> str:
    """Each team's budget (`daily_usd` or `monthly_usd`) as a series naming the team and the
    budget: `label_replace` on an empty source label sets a constant label."""

    def constant(value: float, labels: dict[str, str]) -> str:
        expr = f"vector({value:g})"
        for name, text in labels.items():
            expr = f'label_replace({expr}, "{name}", "{text}", "", "")'
        return expr

    return " or ".join(
        constant(
            getattr(budget, amount),
            {names.SPENDING_TEAM: team, names.BUDGET_USD: f"{getattr(budget, amount):.2f}"},
        )
        for team, budget in sorted(budgets.items())
    )


def team_budget_percent(spend_by_team: str, budgets: dict[str, TeamBudget], amount: str) -> str:
    """Per team with a budget: its spend as a percentage of its own budget."""
    spending = (
        f'label_replace({spend_by_team}, "{names.SPENDING_TEAM}", "$1", "{names.TEAM}", "(.+)")'
    )
    per_team = f"sum by ({names.SPENDING_TEAM}) ({spending})"
    return (
        f"100 * {per_team} / on ({names.SPENDING_TEAM}) group_left ({names.BUDGET_USD}) "
        f"({_team_budgets(budgets, amount)})"
    )


TEAM_SPEND_STATES = States(
    "OK",
    "no series means no team with a budget spent anything in the period, so none is over it",
    "KeepLast",
    "a failed query says nothing about spend: keep the last state; the no-traffic rule reports "
    "the datasource error",
)


def team_budget_rules(budgets: dict[str, TeamBudget]) -> list[AlertRule]:
    """One rule per period; each team over its own budget is one alert instance naming it."""
    if not budgets:
        return []
    team, budget = label(names.SPENDING_TEAM), f"${label(names.BUDGET_USD)}"
    common = {
        "group": COST_GROUP,
        "severity": "warning",
        "datasource": "prometheus",
        "threshold": Threshold("gt", (100.0,)),
        "pending": "5m",
        "states": TEAM_SPEND_STATES,
        "panel": PanelLink(COST_DASHBOARD, "Spend by team"),
    }
    return [
        AlertRule(
            uid="llm-o11y-team-daily-spend",
            title="Team LLM spend over daily budget",
            query=team_budget_percent(measures.spend_today_by([names.TEAM]), budgets, "daily_usd"),
            window_seconds=86_400,
            summary="A team's LLM spend today (UTC) is over its daily budget.",
            description=f"Team {team} has spent {shown('%.0f')} % of its daily budget of "
            f"{budget} since midnight UTC.",
            **common,
        ),
        AlertRule(
            uid="llm-o11y-team-monthly-spend",
            title="Team LLM spend over monthly budget",
            query=team_budget_percent(
                measures.spend_this_month_by([names.TEAM]), budgets, "monthly_usd"
            ),
            window_seconds=31 * 86_400,
            summary="A team's LLM spend this month (UTC) is over its monthly budget.",
            description=f"Team {team} has spent {shown('%.0f')} % of its monthly budget of "
            f"{budget} since the 1st of the month (UTC).",
            **common,
        ),
    ]


def unpriced_model_rule(table: PricingTable) -> AlertRule:
    return AlertRule(
        uid="llm-o11y-unpriced-model",
        title="LLM tokens on an unpriced model",
        group=COST_GROUP,
        severity="warning",
        datasource="prometheus",
        query=measures.unpriced_tokens("[1h]", table),
        window_seconds=3600,
        threshold=Threshold("gt", (0.0,)),
        pending="5m",
        states=PER_SERIES_STATES,
        summary="An LLM model that configs/pricing.yaml does not price is in use.",
        description=f"{SERVICE} used {label(names.MODEL)} for {shown('%.0f')} tokens in the "
        "last hour; no `match` in configs/pricing.yaml covers it, so derived-cost panels leave "
        "it out and, for an app that reports tokens only, its spend is missing from every spend "
        "figure. Add its price to configs/pricing.yaml.",
        panel=PanelLink(COST_DASHBOARD, "Unpriced models"),
    )


def cost_rules(t: AlertThresholds, table: PricingTable) -> list[AlertRule]:
    return [
        AlertRule(
            uid="llm-o11y-daily-spend",
            title="LLM spend over daily budget",
            group=COST_GROUP,
            severity="warning",
            datasource="prometheus",
            query=measures.spend_today(),
            window_seconds=86_400,
            threshold=Threshold("gt", (t.daily_budget_usd,)),
            pending="5m",
            states=SPEND_STATES,
            summary="LLM spend today (UTC) is over the daily budget.",
            description=f"Spent {DOLLARS} since midnight UTC (Claude Code and apps); the "
            f"daily budget is {usd(t.daily_budget_usd)}.",
            panel=PanelLink(COST_DASHBOARD, "Spend today"),
        ),
        AlertRule(
            uid="llm-o11y-monthly-forecast",
            title="LLM monthly spend forecast over budget",
            group=COST_GROUP,
            severity="warning",
            datasource="prometheus",
            query=spend_forecast(),
            window_seconds=7 * 86_400,
            threshold=Threshold("gt", (t.monthly_budget_usd,)),
            pending="15m",
            states=SPEND_STATES,
            summary="At the last 7 days' pace, this month's LLM spend will exceed the budget.",
            description=f"The last 7 days' daily average projects {DOLLARS} for this month; "
            f"the monthly budget is {usd(t.monthly_budget_usd)}.",
            panel=PanelLink(COST_DASHBOARD, "Projected spend this month"),
        ),
        AlertRule(
            uid="llm-o11y-burn-rate",
            title="LLM spend rate over hourly limit",
            group=COST_GROUP,
            severity="critical",
            datasource="prometheus",
            query=measures.spend_or_zero("[1h]"),
            window_seconds=3600,
            threshold=Threshold("gt", (t.burn_rate_usd_per_hour,)),
            pending="5m",
            states=SPEND_STATES,
            summary="LLM spend in the last hour is over the hourly limit.",
            description=f"Spent {DOLLARS} in the last hour; the limit is "
            f"{usd(t.burn_rate_usd_per_hour)} per hour.",
            panel=PanelLink(COST_DASHBOARD, "Spend per hour"),
        ),
        AlertRule(
            uid="llm-o11y-spend-anomaly",
            title="LLM spend anomaly",
            group=COST_GROUP,
            severity="warning",
            datasource="prometheus",
            query=spend_anomaly_ratio(t.anomaly_baseline_floor_usd),
            window_seconds=8 * 86_400,
            threshold=Threshold("gt", (t.anomaly_factor,)),
            pending="15m",
            states=SPEND_STATES,
            summary="LLM spend in the last hour is far above the same hour on previous days.",
            description=f"The last hour cost {shown('%.1f')} times the average of "
            f"the same hour over the previous 7 days (alert above {t.anomaly_factor:g} times; "
            f"averages under {usd(t.anomaly_baseline_floor_usd)} count as "
            f"{usd(t.anomaly_baseline_floor_usd)}).",
            panel=PanelLink(COST_DASHBOARD, "Spend per hour"),
        ),
        AlertRule(
            uid="llm-o11y-cost-per-operation",
            title="LLM cost per operation over limit",
            group=COST_GROUP,
            severity="warning",
            datasource="prometheus",
            query=cost_per_operation(),
            window_seconds=3600,
            threshold=Threshold("gt", (t.cost_per_operation_usd,)),
            pending="15m",
            states=PER_SERIES_STATES,
            summary="An LLM operation costs more per call than its limit.",
            description=f"{OPERATION} calls cost ${shown('%.4f')} each over the last hour; "
            f"the limit is {usd(t.cost_per_operation_usd)}.",
            panel=PanelLink(COST_DASHBOARD, "Cost per call by operation"),
            nan_is_zero=True,
        ),
        AlertRule(
            uid="llm-o11y-cost-per-operation-slo",
            title="LLM cost per operation over SLO",
            group=COST_GROUP,
            severity="info",
            datasource="prometheus",
            query=cost_per_operation(),
            window_seconds=3600,
            threshold=Threshold(
                "within_range", (t.slo_cost_per_operation_usd, t.cost_per_operation_usd)
            ),
            pending="15m",
            states=PER_SERIES_STATES,
            summary="An LLM operation costs more per call than its SLO.",
            description=f"{OPERATION} calls cost ${shown('%.4f')} each over the last hour; "
            f"the SLO is {usd(t.slo_cost_per_operation_usd)} (above "
            f"{usd(t.cost_per_operation_usd)} the limit rule fires instead).",
            panel=PanelLink(COST_DASHBOARD, "Cost per call by operation"),
            nan_is_zero=True,
        ),
        AlertRule(
            uid="llm-o11y-session-cost",
            title="Claude Code session over cost limit",
            group=COST_GROUP,
            severity="warning",
            datasource="prometheus",
            query=session_cost(),
            window_seconds=86_400,
            threshold=Threshold("gt", (t.session_cost_usd,)),
            pending="0s",
            states=PER_SERIES_STATES,
            summary="A Claude Code session has cost more than the per-session limit.",
            description=f"Session {label('session_id')} of {label('user_email')} cost {DOLLARS} "
            f"in the last 24 hours; the limit is {usd(t.session_cost_usd)}.",
            panel=PanelLink(SESSIONS_DASHBOARD, "Most expensive sessions"),
        ),
        *team_budget_rules(t.team_budgets),
        unpriced_model_rule(table),
    ]
