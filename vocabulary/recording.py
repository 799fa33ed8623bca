"""Recording rules: each counter counted once per 5-minute window, summed over its processes.

A recorded series `llm:<counter>:increase5m` holds, at each evaluation time t, what the counter's
series grew in the window (t - 6m, t - 1m] (vocabulary/windows.py's observed_increase), summed by
the labels the dashboards filter by (source, user, team, model, and the team's cost centre) and
those the panels, rules and report group or filter that counter by (token type, decision, error
type, ...). A measure over any range is then `sum_over_time()` of the recorded windows, which
reads a few series per user and model instead of one per session. The agents view's breakdowns
(query source and subagent, skill, plugin, MCP server and tool, effort and speed) each have a
record of their own, `llm_<dimensions>:<counter>:increase5m`, keeping the filter labels and
those dimensions only: one record keeping all of them would multiply them into a series per
combination. measures.recorded() picks the smallest record that keeps the labels a query needs,
and tests/test_recorded_labels.py fails when a query groups or filters a record by a label it
does not keep.

- Windows tile: consecutive evaluations 5 minutes apart count every sample once, across counter
  resets (a window with a reset falls back to increase()) and series that start and end.
- Late samples: the window ends a minute before the evaluation, so a sample that reaches the
  database up to `LATE` after its timestamp is still counted.
- `llm:spend_usd:increase5m` is spend, defined once: Claude Code's cost metric, each app's
  `gen_ai.usage.cost`, and for apps that report only tokens their tokens priced from the pricing
  table at the time of recording, on either generation of the GenAI conventions: the tokens
  counted once per counter and joined with the table (vocabulary/pricing.py).
- `llm:claude_code_token_cost_usd:increase5m` is Claude Code's tokens priced the same way, by
  token type, for the panels that show what each type cost.
- `llm:gen_ai_tokens:increase5m` is the apps' tokens of both generations in one label set
  (vocabulary/generations.py).

The same rules are declared as Grafana-managed recording rules on both targets
(components/alerting.py) and exported as a Prometheus rule file (`python -m tools.export
recording-rules DIR`) for promtool and for backfilling.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from vocabulary import generations, names
from vocabulary.pricing import (
    CLAUDE_CODE_TOKENS,
    GENAI_TOKENS,
    PricingTable,
    derived_cost,
    price_time,
    priced_tokens,
)
from vocabulary.windows import Window, observed_increase

GROUP: Final = "LLM recorded series"
INTERVAL_SECONDS: Final = 300
INTERVAL: Final = names.RECORD_INTERVAL
LATE: Final = "1m"
RECORD_WINDOW: Final = Window(INTERVAL, LATE)
# The labels spend is recorded by; Claude Code has no operation, the apps no user.
SPEND_LABELS: Final = (
    names.SERVICE,
    names.MODEL,
    names.USER,
    names.OPERATION,
    names.TEAM,
    names.COST_CENTER,
)


# The labels every record of a source's counters keeps (where its series carry them): the
# dashboard filters' (vocabulary/filters.py) and the team's cost centre.
CLAUDE_CODE_LABELS: Final = (names.SERVICE, names.USER, names.TEAM, names.COST_CENTER)
APP_LABELS: Final = (
    names.SERVICE,
    names.TEAM,
    names.COST_CENTER,
    names.OPERATION,
    names.APP_MODEL,
)
HTTP_LABELS: Final = (names.SERVICE, names.TEAM, names.COST_CENTER)
# Tempo's span metrics: one series per operation, kind and status (and bucket); the model filter
# reads the request model.
SPAN_LABELS: Final = (names.SPAN_SERVICE, names.SPAN_NAME, names.SPAN_KIND, names.APP_REQUEST_MODEL)
# The agents view's breakdowns of Claude Code's cost and tokens, one record each; a subagent's
# requests are query_source "subagent", which the runaway-subagent rule narrows to.
AGENT_DIMENSIONS: Final = (
    (names.QUERY_SOURCE, names.AGENT),
    (names.SKILL,),
    (names.PLUGIN,),
    (names.MCP_SERVER, names.MCP_TOOL),
    (names.EFFORT, names.SPEED),
)


@dataclass(frozen=True)
class CounterRecord:
    """One counter's recorded windows, summed by `labels` (and by `dimensions`, named in the
    record)."""

    metric: str
    labels: tuple[str, ...]
    dimensions: tuple[str, ...] = ()

    @property
    def record(self) -> str:
        return names.record_name(self.metric, self.dimensions)

    @property
    def kept(self) -> tuple[str, ...]:
        return (*self.labels, *self.dimensions)

    def raw(self, matchers: str, window: Window | str) -> str:
        """What the recorded series sums to over `window`, computed from the raw series."""
        increase = observed_increase(f"{self.metric}{matchers}", window)
        return f"sum by ({', '.join(self.kept)}) ({increase})"

    def expr(self, table: PricingTable) -> str:
        return self.raw("", RECORD_WINDOW)


def _counters() -> tuple[CounterRecord, ...]:
    claude_code_by_model = (*CLAUDE_CODE_LABELS, names.MODEL)
    calls = (*APP_LABELS, names.ERROR_TYPE)
    kept = {
        names.CLAUDE_CODE_COST: claude_code_by_model,
        names.CLAUDE_CODE_TOKENS: (*claude_code_by_model, names.TOKEN_TYPE),
        names.CLAUDE_CODE_SESSIONS: CLAUDE_CODE_LABELS,
        names.CLAUDE_CODE_LINES: (*claude_code_by_model, names.TOKEN_TYPE),
        names.CLAUDE_CODE_COMMITS: CLAUDE_CODE_LABELS,
        names.CLAUDE_CODE_PULL_REQUESTS: CLAUDE_CODE_LABELS,
        names.CLAUDE_CODE_EDIT_DECISIONS: (*CLAUDE_CODE_LABELS, names.DECISION),
        names.CLAUDE_CODE_ACTIVE_TIME: (*CLAUDE_CODE_LABELS, names.TOKEN_TYPE),
        names.APP_COST: APP_LABELS,
        names.APP_PRICED_CALLS: APP_LABELS,
        names.APP_TOKENS: APP_LABELS,
        names.APP_CALLS: calls,
        names.APP_CALL_DURATION_SUM: calls,
        names.APP_CALL_BUCKETS: (*APP_LABELS, "le"),
        names.APP_INFERENCE_CALLS: calls,
        names.APP_INFERENCE_DURATION_SUM: calls,
        names.APP_INFERENCE_BUCKETS: (*APP_LABELS, "le"),
        names.HTTP_REQUESTS: (*HTTP_LABELS, names.STATUS_CODE),
        names.HTTP_DURATION_SUM: (*HTTP_LABELS, names.STATUS_CODE),
        names.SPAN_CALLS: (*SPAN_LABELS, names.SPAN_STATUS),
        names.SPAN_BUCKETS: (*SPAN_LABELS, "le"),
    }
    by_dimension = tuple(
        CounterRecord(metric, claude_code_by_model, dimensions)
        for metric in (names.CLAUDE_CODE_COST, names.CLAUDE_CODE_TOKENS)
        for dimensions in AGENT_DIMENSIONS
    )
    return (*(CounterRecord(metric, labels) for metric, labels in kept.items()), *by_dimension)


COUNTERS: Final = _counters()
COUNTER_BY_RECORD: Final = {counter.record: counter for counter in COUNTERS}


def counter_record(metric: str, needed: Iterable[str] = ()) -> CounterRecord:
    """The record of `metric` with the fewest labels that keeps every label in `needed`."""
    wanted = set(needed)
    fitting = [c for c in COUNTERS if c.metric == metric and wanted <= set(c.kept)]
    if not fitting:
        kept = [c.kept for c in COUNTERS if c.metric == metric]
        raise ValueError(
            f"no record of {metric} keeps {sorted(wanted)}; its records keep {kept} "
            "(vocabulary/recording.py)"
        )
    return min(fitting, key=lambda counter: len(counter.kept))


def _relabel(expr: str, target: str, source: str) -> str:
    return f'label_replace({expr}, "{target}", "$1", "{source}", "(.*)")'


def raw_spend(
    window: Window | str,
    table: PricingTable,
    by: Sequence[str] = SPEND_LABELS,
    matchers: str = "",
) -> str:
    """USD by `by` over `window` from the raw series: Claude Code's cost metric, else each app's
    own cost, else (label sets without a cost series) its tokens of both generations
    (generations.tokens(), each counter read once) priced from `table` in one join.
    `matchers` (`{...}`, on labels the raw series carry: service_name, user_email,
    gen_ai_operation_name) narrows every source."""
    grouping = ", ".join(by)
    # An app that sets team and cost_center (resource attributes) keeps them in its spend.
    app_by = [names.SERVICE, names.OPERATION, names.APP_MODEL, names.TEAM, names.COST_CENTER]
    claude_code = (
        f"sum by ({grouping}) ({observed_increase(names.CLAUDE_CODE_COST + matchers, window)})"
    )
    own = f"sum by ({', '.join(app_by)}) ({observed_increase(names.APP_COST + matchers, window)})"
    tokens = generations.tokens(window, app_by, matchers.strip("{}"))
    priced = priced_tokens(tokens, GENAI_TOKENS, table, app_by, at=price_time(window))
    apps = f"sum by ({grouping}) ({_relabel(f'({own} or {priced})', names.MODEL, names.APP_MODEL)})"
    return f"({claude_code} or {apps})"


@dataclass(frozen=True)
class SpendRecord:
    """Spend in USD by SPEND_LABELS, every source priced."""

    record: str = names.SPEND_RECORD

    def raw(self, matchers: str, window: Window | str, table: PricingTable) -> str:
        return raw_spend(window, table, matchers=matchers)

    def expr(self, table: PricingTable) -> str:
        return raw_spend(RECORD_WINDOW, table)


SPEND: Final = SpendRecord()

# The labels Claude Code's priced tokens are recorded by: what its dashboard groups and filters
# the per-type cost by.
TOKEN_COST_LABELS: Final = (
    names.SERVICE,
    names.USER,
    names.TEAM,
    names.COST_CENTER,
    names.MODEL,
    names.TOKEN_TYPE,
)


@dataclass(frozen=True)
class TokenCostRecord:
    """Claude Code's tokens priced from the pricing table when recorded, by TOKEN_COST_LABELS:
    a range's per-type cost is then a sum_over_time() that keeps each window's price."""

    record: str = names.CLAUDE_CODE_TOKEN_COST_RECORD

    def raw(self, matchers: str, window: Window | str, table: PricingTable) -> str:
        return derived_cost(
            CLAUDE_CODE_TOKENS,
            window,
            TOKEN_COST_LABELS,
            table=table,
            matchers=matchers.strip("{}"),
        )

    def expr(self, table: PricingTable) -> str:
        return self.raw("", RECORD_WINDOW, table)


TOKEN_COST: Final = TokenCostRecord()

# The labels the apps' tokens of every generation are recorded by (besides gen_ai_token_type).
APP_TOKEN_LABELS: Final = APP_LABELS


@dataclass(frozen=True)
class AppTokensRecord:
    """The apps' tokens of both GenAI generations by APP_TOKEN_LABELS and gen_ai_token_type
    (vocabulary/generations.py)."""

    record: str = names.APP_TOKENS_RECORD

    def raw(self, matchers: str, window: Window | str) -> str:
        return generations.tokens(window, APP_TOKEN_LABELS, matchers.strip("{}"))

    def expr(self, table: PricingTable) -> str:
        return self.raw("", RECORD_WINDOW)


APP_TOKENS: Final = AppTokensRecord()


@dataclass(frozen=True)
class RecordingRule:
    record: str
    expr: str


def recording_rules(table: PricingTable) -> list[RecordingRule]:
    rules = (*COUNTERS, SPEND, TOKEN_COST, APP_TOKENS)
    return [RecordingRule(rule.record, rule.expr(table)) for rule in rules]


def prometheus_rule_file(table: PricingTable) -> dict[str, Any]:
    """The rules as a Prometheus rule file: one group, evaluated every INTERVAL."""
    rules = [{"record": rule.record, "expr": rule.expr} for rule in recording_rules(table)]
    return {"groups": [{"name": GROUP, "interval": INTERVAL, "rules": rules}]}


# --- the raw form of a recorded query (the bench compares both) ----------------------------------


def raw_equivalent(expr: str, table: PricingTable) -> str:
    """`expr` with every `sum_over_time(<record>{matchers}[window] offset x)` replaced by what it
    sums to from the raw series: the same panel without recording rules."""
    import re

    records: dict[str, Callable[[str, Window], str]] = {
        record: counter.raw for record, counter in COUNTER_BY_RECORD.items()
    }
    records[SPEND.record] = lambda matchers, window: SPEND.raw(matchers, window, table)
    records[TOKEN_COST.record] = lambda matchers, window: TOKEN_COST.raw(matchers, window, table)
    records[APP_TOKENS.record] = APP_TOKENS.raw
    pattern = re.compile(
        r"sum_over_time\((llm\w*:\w+:increase" + INTERVAL + r")(\{[^}]*\})?"
        r"\[([^\]]+)\](?:\s+offset\s+(-?[\w$]+))?\)"
    )

    def replace(match: re.Match[str]) -> str:
        record, matchers, duration, offset = match.groups()
        return records[record](matchers or "", Window(duration, offset))

    return pattern.sub(replace, expr)
