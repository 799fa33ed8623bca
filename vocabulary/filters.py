"""The dashboard filters (source, user, team, model) and which label of each series they narrow.

Every LLM dashboard offers the four variables, "All" by default. A variable narrows the series
that carry its label: `All` is `.*`, which also matches a series without the label (the empty
value), and one picked value drops such a series, since it is not that user's, team's or model's.
`filtered_promql()` adds the matchers to every selector of a series listed in SERIES_LABELS,
`filtered_logql()` label filters after every Claude Code event stream selector;
dashboards/panels.py applies them to every target when a dashboard is rendered, so a new panel is
filtered as soon as the series it reads is listed here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from vocabulary import names
from vocabulary.recording import COUNTERS


@dataclass(frozen=True)
class DashboardFilter:
    """A dashboard variable: its name in queries (`$user`), its title, and the label of the
    spend record its choices are read from."""

    variable: str
    title: str
    label: str

    @property
    def values_query(self) -> str:
        """The choices: a label's values on one recorded series (cheap: an index lookup)."""
        return f"label_values({names.SPEND_RECORD}, {self.label})"


SOURCE: Final = DashboardFilter("source", "Source", names.SERVICE)
USER: Final = DashboardFilter("user", "User", names.USER)
TEAM: Final = DashboardFilter("team", "Team", names.TEAM)
MODEL: Final = DashboardFilter("model", "Model", names.MODEL)
FILTERS: Final = (SOURCE, USER, TEAM, MODEL)
# What "All" sends: a regex that matches any value, the empty one (no such label) included.
ALL_VALUE: Final = ".*"

# variable -> the label that carries it on a series
Carried = Mapping[str, str]

# Claude Code: resource attributes (service.name, team) and user.email on every series.
_CLAUDE_CODE: Final[Carried] = {
    SOURCE.variable: names.SERVICE,
    USER.variable: names.USER,
    TEAM.variable: names.TEAM,
}
_CLAUDE_CODE_BY_MODEL: Final[Carried] = {**_CLAUDE_CODE, MODEL.variable: names.MODEL}
# Apps: no user; team when the app sets it in OTEL_RESOURCE_ATTRIBUTES; the response model is
# what the spend record calls `model`.
_APP: Final[Carried] = {SOURCE.variable: names.SERVICE, TEAM.variable: names.TEAM}
_APP_BY_MODEL: Final[Carried] = {**_APP, MODEL.variable: names.APP_MODEL}
# Tempo's span metrics name the service `service` and keep the request model.
_SPANS: Final[Carried] = {SOURCE.variable: "service", MODEL.variable: names.APP_REQUEST_MODEL}


def _histogram(base: str) -> tuple[str, ...]:
    return (f"{base}_bucket", f"{base}_count", f"{base}_sum")


_RAW: Final[dict[str, Carried]] = {
    **dict.fromkeys(
        (names.CLAUDE_CODE_COST, names.CLAUDE_CODE_TOKENS, names.CLAUDE_CODE_LINES),
        _CLAUDE_CODE_BY_MODEL,
    ),
    **dict.fromkeys(
        (
            names.CLAUDE_CODE_SESSIONS,
            names.CLAUDE_CODE_COMMITS,
            names.CLAUDE_CODE_PULL_REQUESTS,
            names.CLAUDE_CODE_EDIT_DECISIONS,
            names.CLAUDE_CODE_ACTIVE_TIME,
        ),
        _CLAUDE_CODE,
    ),
    **dict.fromkeys(
        (
            *_histogram(names.APP_CALL_DURATION),
            *_histogram(names.APP_INFERENCE_DURATION),
            names.APP_INFERENCE_INPUT,
            names.APP_INFERENCE_OUTPUT,
            names.APP_INFERENCE_CACHE_READ,
            names.APP_INFERENCE_CACHE_WRITE,
            names.APP_INFERENCE_REASONING,
            *_histogram(names.APP_COST.removesuffix("_sum")),
            *_histogram(names.APP_TOKENS.removesuffix("_sum")),
        ),
        _APP_BY_MODEL,
    ),
    **dict.fromkeys(_histogram(names.HTTP_DURATION), _APP),
    **dict.fromkeys((*_histogram(names.SPAN_LATENCY), names.SPAN_CALLS), _SPANS),
}

SERIES_LABELS: Final[Mapping[str, Carried]] = {
    **_RAW,
    # Every record of a counter keeps the filter labels its series carry (vocabulary/recording.py).
    **{counter.record: _RAW[counter.metric] for counter in COUNTERS},
    names.SPEND_RECORD: {
        SOURCE.variable: names.SERVICE,
        USER.variable: names.USER,
        TEAM.variable: names.TEAM,
        MODEL.variable: names.MODEL,
    },
    names.CLAUDE_CODE_TOKEN_COST_RECORD: _CLAUDE_CODE_BY_MODEL,
    names.APP_TOKENS_RECORD: _APP_BY_MODEL,
}
"""Series name -> the filters it takes and the label each reads."""


# Claude Code events: label filters after the stream selector, which match stream labels
# (service_name) and structured metadata (the events' attributes, other resource attributes)
# alike. Not every event names a model (only api_request does), so the model filter is left to
# the metrics panels.
STREAM_LABELS: Final[Mapping[str, Carried]] = {names.CLAUDE_CODE_EVENTS: _CLAUDE_CODE}


# PromQL tokens: strings (their text is never a selector), numbers and durations, dashboard
# variables, names, anything else one character at a time.
_TOKEN: Final = re.compile(
    r"""(?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
    |(?P<number>\d[\w.]*)
    |(?P<variable>\$\{?\w+(?::\w+)?\}?)
    |(?P<name>[A-Za-z_:][\w:]*)
    |(?P<other>.)""",
    re.VERBOSE | re.DOTALL,
)


def matchers(carried: Carried) -> list[str]:
    """`label=~"$variable"` for each filter `carried`, in FILTERS order."""
    return [
        f'{carried[choice.variable]}=~"${choice.variable}"'
        for choice in FILTERS
        if choice.variable in carried
    ]


def _closing_brace(expr: str, start: int) -> int:
    """The index of the `}` closing the `{` at `start` (strings may hold braces)."""
    for token in _TOKEN.finditer(expr, start + 1):
        if token.group("other") == "}":
            return token.start()
    raise ValueError(f"unclosed selector in {expr!r}")


def filtered_promql(expr: str) -> str:
    """`expr` with the dashboard filters on every selector of a series in SERIES_LABELS."""
    pieces: list[str] = []
    position = 0
    while (token := _TOKEN.search(expr, position)) is not None:
        pieces.append(expr[position : token.end()])
        position = token.end()
        name = token.group("name")
        if name is None or name not in SERIES_LABELS:
            continue
        added = ", ".join(matchers(SERIES_LABELS[name]))
        gap = len(expr[position:]) - len(expr[position:].lstrip())
        if not expr.startswith("{", position + gap):
            pieces.append(f"{{{added}}}")
            continue
        closing = _closing_brace(expr, position + gap)
        inner = expr[position + gap + 1 : closing].strip()
        pieces.append(f"{{{inner}, {added}}}" if inner else f"{{{added}}}")
        position = closing + 1
    pieces.append(expr[position:])
    return "".join(pieces)


def filtered_logql(expr: str) -> str:
    """`expr` with the dashboard filters after every stream selector in STREAM_LABELS."""
    for selector, carried in STREAM_LABELS.items():
        stages = "".join(f" | {matcher}" for matcher in matchers(carried))
        expr = expr.replace(selector, selector + stages)
    return expr
