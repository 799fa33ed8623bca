"""Each measure once: spend, tokens, requests, errors, latency, sessions.

Every function returns PromQL that reads the recorded series (vocabulary/recording.py), so a
month of a team's data is a few hundred series. `window` is where the measure is taken: a
`Window`, or its text (`[$__range]`, `[1d]`, `[$__interval] offset -$__interval`). `by` names
the labels to keep; `matchers` narrows the recorded series (`{type="cacheRead"}`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Final

from vocabulary import names
from vocabulary.pricing import PricingTable
from vocabulary.recording import APP_TOKENS, INTERVAL, SPEND, counter_record
from vocabulary.windows import Window

# The recorded series are 5-minute windows: a panel reading them must not step finer.
MIN_INTERVAL: Final = INTERVAL


def _grouping(by: Sequence[str]) -> str:
    return f" by ({', '.join(by)})" if by else ""


_MATCHED_LABEL = re.compile(r"(\w+)\s*(?:=~|!~|!=|=)")


def recorded(metric: str, window: Window | str, matchers: str = "", by: Sequence[str] = ()) -> str:
    """Per recorded series, how much `metric` grew in `window` (no sum), read from the smallest
    record that keeps the labels of `matchers` and `by` (what the caller sums by)."""
    needed = {*by, *_MATCHED_LABEL.findall(matchers)}
    record = counter_record(metric, needed).record
    return f"sum_over_time({record}{matchers}{Window.of(window).range()})"


def increase(metric: str, window: Window | str, by: Sequence[str] = (), matchers: str = "") -> str:
    """How much `metric` grew in `window`, summed by `by`: the counting method of
    vocabulary/__init__.py, read from the recorded windows."""
    return f"sum{_grouping(by)} ({recorded(metric, window, matchers, by)})"


def per_second(metric: str, by: Sequence[str] = (), matchers: str = "") -> str:
    """Average per-second growth over each step of a time series panel (whose min interval
    must be MIN_INTERVAL): the step's recorded windows divided by the step."""
    window = Window("$__interval")
    return f"{increase(metric, window, by, matchers)} / ($__interval_ms / 1000)"


# --- spend ---------------------------------------------------------------------------------------


def spend(window: Window | str, by: Sequence[str] = (), matchers: str = "") -> str:
    """USD spent in `window` by `by` (any of recording.SPEND_LABELS): Claude Code, every app's
    own cost, and apps that report only tokens priced from the pricing table. `matchers` may
    name service_name, user_email and gen_ai_operation_name."""
    span = Window.of(window).range()
    return f"sum{_grouping(by)} (sum_over_time({SPEND.record}{matchers}{span}))"


APPS: Final = f'{{{names.SERVICE}!~"{names.CLAUDE_CODE_SERVICE_PATTERN}"}}'
CLAUDE_CODE: Final = f'{{{names.SERVICE}=~"{names.CLAUDE_CODE_SERVICE_PATTERN}"}}'


def spend_or_zero(window: Window | str) -> str:
    """Total spend, 0 (not nothing) when nothing was recorded: for alert rules."""
    return f"({spend(window)} or vector(0))"


def _utc_day(time: str) -> str:
    """The UTC day number of the windows ending at `time`: (day start, day end] is one day, so
    the window recorded at midnight belongs to the day it closes."""
    return f"ceil({time} / 86400)"


def _utc_month(time: str) -> str:
    """The UTC month number (year * 12 + month) of the windows ending at `time`, the window
    recorded at midnight of the 1st belonging to the month it closes."""
    return f"(year({time} - 1) * 12 + month({time} - 1))"


def _spend_since(period: Callable[[str], str], span: str, by: Sequence[str]) -> str:
    """USD since the start of the evaluation time's `period` (`_utc_day`, `_utc_month`), which
    lasts at most `span`: the recorded windows of that span in the same period. `@ end()` pins
    the evaluation time inside the subquery (for an instant query end() is that time, to the
    second), `[span:5m]` visits each recorded window once: a step picks the one window
    recorded in the 5 minutes before it."""
    now = "last_over_time(vector(time())[1s:1s] @ end())"
    current = f"({period('vector(time())')} == on () {period(now)})"
    grouping = f" by ({', '.join(by)}) " if by else ""
    windows = f"({SPEND.record} and on () {current})[{span}:{INTERVAL}]"
    return f"sum{grouping}(sum_over_time({windows}))"


def spend_today() -> str:
    """USD since midnight UTC at the evaluation time, 0 when nothing was recorded."""
    return f"({_spend_since(_utc_day, '1d', ())} or vector(0))"


def spend_today_by(by: Sequence[str]) -> str:
    """USD since midnight UTC by `by`; label sets that spent nothing are absent."""
    return _spend_since(_utc_day, "1d", by)


def spend_this_month_by(by: Sequence[str]) -> str:
    """USD since the start of the UTC month by `by`; label sets that spent nothing are absent.
    The month's past days are one step each (`[31d:1d]` steps fall on midnight UTC and each
    sums the day before it), today is spend_today_by(): a month of 5-minute steps would hold
    ~9000 points per series in memory (promtool's test engine allows 10000 in all)."""
    now = "last_over_time(vector(time())[1s:1s] @ end())"
    in_month = (
        f"(({_utc_month('vector(time())')} == on () {_utc_month(now)}) "
        f"and on () (vector(time()) < on () {now}))"
    )
    grouping = f" by ({', '.join(by)}) " if by else ""
    per_day = f"sum{grouping}(sum_over_time({SPEND.record}[1d]))"
    days = f"sum{grouping}(sum_over_time(({per_day} and on () {in_month})[31d:1d]))"
    # Distinct `part` labels keep both halves through `or`; the outer sum adds them.
    parts = (
        f'label_replace({days}, "part", "days", "", "") or '
        f'label_replace({spend_today_by(by)}, "part", "today", "", "")'
    )
    return f"sum{grouping}({parts})"


def spend_per_hour(by: Sequence[str] = ()) -> str:
    """USD per hour over each step of a time series panel (min interval MIN_INTERVAL)."""
    return f"{spend(Window('$__interval'), by)} * 3600 / ($__interval_ms / 1000)"


# --- tokens --------------------------------------------------------------------------------------

CLAUDE_CODE_PROMPT_TYPES: Final = "input|cacheRead|cacheCreation"
APP_PROMPT_TYPES: Final = "input|cache_read|cache_write"


def app_tokens(window: Window | str, by: Sequence[str] = (), matchers: str = "") -> str:
    """The apps' tokens of both GenAI generations; by any of recording.APP_TOKEN_LABELS and
    gen_ai_token_type (input not cached, cache_read, cache_write, output with reasoning)."""
    span = Window.of(window).range()
    return f"sum{_grouping(by)} (sum_over_time({APP_TOKENS.record}{matchers}{span}))"


def _relabel(expr: str, target: str, source: str) -> str:
    return f'label_replace({expr}, "{target}", "$1", "{source}", "(.*)")'


def _token_kind(expr: str, label: str, prompt_types: str, completion_types: str) -> str:
    prompt = f'label_replace({expr}, "kind", "prompt", "{label}", "{prompt_types}")'
    return f'label_replace({prompt}, "kind", "completion", "{label}", "{completion_types}")'


def tokens_by_kind(window: Window | str) -> str:
    """Prompt (everything the model read: new input, cache reads and cache writes) and
    completion (output) tokens, Claude Code and apps together, by `kind`."""
    claude_code = _token_kind(
        increase(names.CLAUDE_CODE_TOKENS, window, [names.TOKEN_TYPE]),
        names.TOKEN_TYPE,
        CLAUDE_CODE_PROMPT_TYPES,
        "output",
    )
    apps = _token_kind(
        app_tokens(window, [names.APP_TOKEN_TYPE]),
        names.APP_TOKEN_TYPE,
        APP_PROMPT_TYPES,
        "output",
    )
    return f"sum by (kind) ({claude_code} or {apps})"


def tokens_by_model_type(window: Window | str) -> str:
    """Tokens by `model` and `type`: Claude Code's four types, the apps' input, cache_read,
    cache_write and output."""
    claude_code = increase(names.CLAUDE_CODE_TOKENS, window, [names.MODEL, names.TOKEN_TYPE])
    apps = _relabel(
        _relabel(
            app_tokens(window, [names.APP_MODEL, names.APP_TOKEN_TYPE]),
            names.MODEL,
            names.APP_MODEL,
        ),
        names.TOKEN_TYPE,
        names.APP_TOKEN_TYPE,
    )
    return f"sum by ({names.MODEL}, {names.TOKEN_TYPE}) ({claude_code} or {apps})"


def tokens_by_source(window: Window | str) -> str:
    claude_code = increase(names.CLAUDE_CODE_TOKENS, window, [names.SERVICE])
    return f"({claude_code} or {app_tokens(window, [names.SERVICE])})"


# --- requests, errors, latency -------------------------------------------------------------------

SUCCESSFUL: Final = '{error_type=""}'
FAILED: Final = '{error_type!=""}'


def app_call_series(suffix: str, matchers: str = "") -> str:
    """A selector for the apps' LLM call histogram's `suffix` series (count, sum, bucket) on
    either generation: gen_ai.client.operation.duration or gen_ai.client.inference.duration.
    `matchers` is the inside of a selector's braces."""
    both = "|".join(
        f"{h}_{suffix}" for h in (names.APP_CALL_DURATION, names.APP_INFERENCE_DURATION)
    )
    inside = ", ".join(m for m in (f'__name__=~"{both}"', matchers) if m)
    return "{" + inside + "}"


def _both_generations(
    older: str, newer: str, window: Window | str, matchers: str, by: Sequence[str]
) -> str:
    """Per recorded series, a 2025 histogram's and its 2026 successor's growth side by side (an
    app sends one of the two, so their series never share a label set)."""
    both = (recorded(metric, window, matchers, by) for metric in (older, newer))
    return "({} or {})".format(*both)


def app_calls(window: Window | str, by: Sequence[str] = (), matchers: str = "") -> str:
    """The apps' LLM calls (the count of gen_ai.client.operation.duration, or of
    gen_ai.client.inference.duration on the 2026 conventions); `SUCCESSFUL` or `FAILED` narrows
    them."""
    calls = _both_generations(names.APP_CALLS, names.APP_INFERENCE_CALLS, window, matchers, by)
    return f"sum{_grouping(by)} ({calls})"


def priced_calls(window: Window | str, by: Sequence[str]) -> str:
    """The calls spend is spread over: the apps' calls that reported a cost (the count of
    gen_ai.usage.cost), and for apps that report only tokens their successful calls (a failed
    call costs nothing, so counting it would make calls look cheaper)."""
    reported = increase(names.APP_PRICED_CALLS, window, by)
    return f"({reported} or {app_calls(window, by, SUCCESSFUL)})"


def cost_per_call(window: Window | str, by: Sequence[str]) -> str:
    """The apps' USD per priced call, by `by`."""
    return f"{spend(window, by, APPS)} / {priced_calls(window, by)}"


def error_rate_percent(window: Window | str, by: Sequence[str]) -> str:
    """Failed LLM calls over all calls; label sets without failures are 0 %, not absent."""
    failed = app_calls(window, by, FAILED)
    total = app_calls(window, by)
    return f"100 * ({failed} or 0 * {total}) / {total}"


def latency_quantile(quantile: float, window: Window | str, by: Sequence[str] = ()) -> str:
    """The apps' LLM call duration quantile (seconds) over `window`, both generations."""
    labels = [*by, "le"]
    both = _both_generations(
        names.APP_CALL_BUCKETS, names.APP_INFERENCE_BUCKETS, window, "", labels
    )
    buckets = f"sum{_grouping(labels)} ({both})"
    return f"histogram_quantile({quantile:g}, {buckets})"


def http_latency_quantile(quantile: float, window: Window | str, by: Sequence[str] = ()) -> str:
    """The apps' HTTP request duration quantile (seconds). Read from the raw buckets (not
    recorded: only the report's period figure asks for it)."""
    labels = ", ".join([*by, "le"])
    span = Window.of(window).range()
    buckets = f"sum by ({labels}) (increase({names.HTTP_BUCKETS}{span}))"
    return f"histogram_quantile({quantile:g}, {buckets})"


def http_requests(window: Window | str, by: Sequence[str] = (), matchers: str = "") -> str:
    return increase(names.HTTP_REQUESTS, window, by, matchers)


# --- spans (Tempo's span metrics) ---------------------------------------------------------------

SPAN_ERROR: Final = f'{names.SPAN_STATUS}="STATUS_CODE_ERROR"'


def _and_matchers(matchers: str, more: str) -> str:
    """`{a, b}` from a selector's `{a}` (or nothing) and one more matcher `b`."""
    inside = matchers.strip().removeprefix("{").removesuffix("}").strip()
    return "{" + ", ".join(m for m in (inside, more) if m) + "}"


def span_calls(window: Window | str, by: Sequence[str], matchers: str = "") -> str:
    """Spans (of every status) Tempo counted in `window`, by `by` (any of recording.SPAN_LABELS)."""
    return increase(names.SPAN_CALLS, window, by, matchers)


def span_error_ratio(window: Window | str, by: Sequence[str], matchers: str = "") -> str:
    """Share of spans with status ERROR; 0 (not empty) for a label set without errors."""
    errors = span_calls(window, by, _and_matchers(matchers, SPAN_ERROR))
    total = span_calls(window, by, matchers)
    return f"({errors} or {total} * 0) / {total}"


def span_buckets(window: Window | str, by: Sequence[str], matchers: str = "") -> str:
    """Spans per duration bucket (`le`, cumulative) in `window`, by `by`."""
    return increase(names.SPAN_BUCKETS, window, [*by, "le"], matchers)


def span_quantile(
    quantile: float, window: Window | str, by: Sequence[str], matchers: str = ""
) -> str:
    """A span duration quantile (seconds) over `window`, interpolated inside its bucket."""
    return f"histogram_quantile({quantile:g}, {span_buckets(window, by, matchers)})"


# --- sessions ------------------------------------------------------------------------------------


def sessions_started_per_hour() -> str:
    """Claude Code processes started (a resume counts) per hour over each step of a time series
    panel (min interval MIN_INTERVAL)."""
    return f"{per_second(names.CLAUDE_CODE_SESSIONS)} * 3600"


def sessions_active(window: Window | str) -> str:
    """Claude Code sessions with any sample in `window` (a resumed session counts once). Read
    from the raw per-session series: distinct sessions do not add up over recorded windows."""
    span = Window.of(window).range()
    return f"count(count by ({names.SESSION}) (max_over_time({names.CLAUDE_CODE_SESSIONS}{span})))"


# --- models the pricing table does not price ----------------------------------------------------


def _unpriced(table: PricingTable, label: str) -> str:
    # RE2 has no negative lookahead: `!~` on the alternation of every `match`.
    return f'{label}!~"{table.priced_pattern()}"'


def unpriced_tokens(window: Window | str, table: PricingTable) -> str:
    """Tokens by service and model of models no `match` of `table` covers, Claude Code's and
    the apps' (whose response model is relabelled to `model`); an app that names no response
    model counts under model "". Their derived cost is missing from every derived-cost panel,
    and a token-only app's spend from the spend record."""
    by = [names.SERVICE, names.MODEL]
    claude_code = increase(
        names.CLAUDE_CODE_TOKENS, window, by, f"{{{_unpriced(table, names.MODEL)}}}"
    )
    apps = _relabel(
        increase(
            names.APP_TOKENS,
            window,
            [names.SERVICE, names.APP_MODEL],
            f"{{{_unpriced(table, names.APP_MODEL)}}}",
        ),
        names.MODEL,
        names.APP_MODEL,
    )
    return f"sum by ({', '.join(by)}) ({claude_code} or {apps})"
