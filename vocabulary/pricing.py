"""The pricing table (configs/pricing.yaml) and the PromQL that derives cost from token counts.

A derived cost is one join: the tokens counted once per series, each series tagged with its
pricing entry (`with_price_entry()`: a label_replace per entry, on the model label), times the
pricing table written as PromQL series (`price_table()`: one per entry and token type), matched
on the entry and the token type, then summed. A model the table does not price has no entry
and adds nothing. Changing a price in the YAML changes these queries and the descriptions that
quote the price; nothing else. The table is passed in (`load_pricing()` once, by the program
or a tool), never read when a module is imported.

A price that changed is a scalar of the evaluation time (`price_at_time()`): the old price
plus the change times `<time> >= bool <date>`, the time being the window's last second
(`price_time()`). A recording rule prices each 5-minute window at the price of its day, and a
range reads the recorded priced windows (`recorded_token_cost()`, vocabulary/recording.py's
spend), so history keeps the price of its day.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any, Final

import yaml

from vocabulary import names
from vocabulary.windows import Window, observed_increase

PRICING_FILE: Final = Path(__file__).resolve().parent.parent / "configs" / "pricing.yaml"


class PriceKind(StrEnum):
    """A column of the pricing table."""

    INPUT = "input"
    OUTPUT = "output"
    CACHE_READ = "cache_read"
    CACHE_WRITE = "cache_write"


@dataclass(frozen=True)
class EarlierPrice:
    """Prices in force from `effective` (None: the model's launch) until the next change."""

    effective: date | None
    prices: Mapping[PriceKind, float]


@dataclass(frozen=True)
class ModelPrice:
    """One model's list prices in USD per million tokens; `match` is an anchored RE2 pattern.
    The prices are in force since `effective` (None: since launch); `earlier` holds the ones
    before, newest first."""

    model: str
    provider: str
    match: str
    input: float
    output: float
    cache_read: float
    cache_write: float
    effective: date | None = None
    earlier: tuple[EarlierPrice, ...] = ()

    def price(self, kind: PriceKind) -> float:
        """Today's price."""
        return float(getattr(self, kind.value))

    def history(self, kind: PriceKind) -> list[tuple[date | None, float]]:
        """(from, price) of `kind`, oldest first, changes only."""
        periods = [(e.effective, e.prices[kind]) for e in reversed(self.earlier)]
        periods.append((self.effective, self.price(kind)))
        changes = periods[:1]
        for start, value in periods[1:]:
            if value != changes[-1][1]:
                changes.append((start, value))
        return changes

    def price_on(self, kind: PriceKind, day: date) -> float:
        """The price in force on UTC `day`."""
        return next(
            value for start, value in reversed(self.history(kind)) if start is None or start <= day
        )

    def changed(self, kind: PriceKind) -> bool:
        return len(self.history(kind)) > 1

    def matches(self, model_id: str) -> bool:
        return re.fullmatch(self.match, model_id) is not None


def _midnight(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


_SECONDS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def price_time(window: Window | str) -> str:
    """PromQL: the time whose prices `window`'s tokens are charged at, its last second: a
    recorded window ((t - 6m, t - 1m]) is priced a minute and a second before it is recorded,
    so the one that ends at midnight keeps its day's price. A window shifted by a dashboard
    variable is priced at the evaluation time."""
    offset = Window.of(window).offset
    if offset is None:
        return "time() - 1"
    literal = re.fullmatch(r"(-?)(\d+)([smhdwy])", offset)
    if literal is None:
        return "time()"
    sign, amount, unit = literal.groups()
    seconds = int(amount) * _SECONDS[unit] * (-1 if sign else 1)
    before = seconds + 1
    return f"time() - {before}" if before > 0 else f"time() + {-before}"


def price_at_time(price: ModelPrice, kind: PriceKind, at: str = "time()") -> str:
    """PromQL: the price of `kind` at `at` (a scalar of the evaluation time, by default the
    evaluation time), from midnight UTC of each change, e.g.
    `(0.2 + -0.1 * (time() >= bool 1791331200))`."""
    history = price.history(kind)
    if len(history) == 1:
        return format_price(history[0][1])
    steps = [format_price(history[0][1])]
    for (_, before), (start, after) in pairwise(history):
        assert start is not None  # only the oldest period may start at launch (parse_pricing)
        steps.append(
            f"{format_price(round(after - before, 9))} * ({at} >= bool {_midnight(start)})"
        )
    return f"({' + '.join(steps)})"


@dataclass(frozen=True)
class PricingTable:
    as_of: date
    sources: Mapping[str, str]
    models: tuple[ModelPrice, ...]
    # Models billed now that the table cannot price yet (the YAML's `unpriced`), for reference.
    unpriced: tuple[str, ...] = ()

    def priced_pattern(self) -> str:
        """An RE2 pattern (anchored by PromQL's =~) matching every model id the table prices."""
        return "|".join(f"(?:{price.match})" for price in self.models)

    def for_providers(self, providers: Sequence[str] | None) -> tuple[ModelPrice, ...]:
        if providers is None:
            return self.models
        return tuple(price for price in self.models if price.provider in providers)

    def price_of(self, model_id: str) -> ModelPrice | None:
        """The entry whose pattern matches `model_id` (patterns never overlap)."""
        return next((price for price in self.models if price.matches(model_id)), None)


class PricingError(ValueError):
    """The pricing table is malformed; the message names the entry and the problem."""


def _effective(value: Any, name: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise PricingError(
            f"{PRICING_FILE.name}: {name}'s effective must be a date (YYYY-MM-DD) or null, "
            f"got {value!r}"
        ) from None


def _earlier(entry: Mapping[str, Any], name: str) -> tuple[EarlierPrice, ...]:
    """The prices before the current ones, newest first; only the oldest may be undated."""
    earlier = tuple(
        EarlierPrice(
            _effective(record.get("effective"), name),
            {kind: float(record[kind.value]) for kind in PriceKind},
        )
        for record in entry.get("earlier") or ()
    )
    starts = [_effective(entry.get("effective"), name), *(e.effective for e in earlier)]
    dated = [start for start in starts if start is not None]
    undated_last = all(start is not None for start in starts[:-1])
    if not undated_last or dated != sorted(set(dated), reverse=True):
        raise PricingError(
            f"{PRICING_FILE.name}: {name}'s prices must be dated newest first: effective, then "
            "earlier[0], earlier[1], ... each before the last; only the oldest may be null"
        )
    return earlier


def _model_price(entry: Mapping[str, Any], position: int) -> ModelPrice:
    name = entry.get("model", f"entry {position}")
    try:
        price = ModelPrice(
            model=str(entry["model"]),
            provider=str(entry["provider"]),
            match=str(entry.get("match") or re.escape(str(entry["model"]))),
            **{kind.value: float(entry[kind.value]) for kind in PriceKind},
            effective=_effective(entry.get("effective"), name),
            earlier=_earlier(entry, name),
        )
    except KeyError as missing:
        raise PricingError(f"{PRICING_FILE.name}: {name} has no {missing}") from None
    prices = [price.price(kind) for kind in PriceKind]
    prices += [value for e in price.earlier for value in e.prices.values()]
    if any(value < 0 for value in prices):
        raise PricingError(f"{PRICING_FILE.name}: {name} has a negative price")
    if not price.matches(price.model):
        raise PricingError(f"{PRICING_FILE.name}: {name}'s match does not match its own id")
    return price


def _also_matched(price: ModelPrice, models: Sequence[ModelPrice]) -> list[str]:
    return [other.model for other in models if other != price and price.matches(other.model)]


def parse_pricing(document: Mapping[str, Any]) -> PricingTable:
    models = tuple(
        _model_price(entry, position) for position, entry in enumerate(document["models"])
    )
    for price in models:
        overlapping = _also_matched(price, models)
        if overlapping:
            raise PricingError(f"{price.model}'s match also matches {', '.join(overlapping)}")
    as_of = document["as_of"]
    return PricingTable(
        as_of=as_of if isinstance(as_of, date) else date.fromisoformat(str(as_of)),
        sources=dict(document.get("sources", {})),
        models=models,
        unpriced=tuple(str(entry["model"]) for entry in document.get("unpriced") or ()),
    )


@cache
def load_pricing(path: Path = PRICING_FILE) -> PricingTable:
    return parse_pricing(yaml.safe_load(path.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class TokenCounter:
    """A token counter (or histogram `_sum`) and how its labels name token types and models."""

    metric: str
    type_label: str
    model_label: str
    prices: Mapping[str, PriceKind]  # token type label value -> pricing column
    providers: tuple[str, ...] | None = None  # only these providers' models can appear
    # The recorded series of its tokens priced at recording time (vocabulary/recording.py).
    priced_record: str | None = None


CLAUDE_CODE_TOKENS: Final = TokenCounter(
    names.CLAUDE_CODE_TOKENS,
    "type",
    "model",
    {
        "input": PriceKind.INPUT,
        "output": PriceKind.OUTPUT,
        "cacheRead": PriceKind.CACHE_READ,
        "cacheCreation": PriceKind.CACHE_WRITE,
    },
    providers=("anthropic",),
    priced_record=names.CLAUDE_CODE_TOKEN_COST_RECORD,
)
# The apps' tokens as generations.tokens() reads both generations: gen_ai.client.token.usage's
# input and output on the 2025 conventions (cached input priced as input), agento11y's and the
# 2026 counters' cache_read and cache_write beside a non-cached input. Reasoning is part of
# output, so it has no price of its own.
GENAI_TOKENS: Final = TokenCounter(
    names.APP_TOKENS,
    "gen_ai_token_type",
    "gen_ai_response_model",
    {
        "input": PriceKind.INPUT,
        "output": PriceKind.OUTPUT,
        "cache_read": PriceKind.CACHE_READ,
        "cache_write": PriceKind.CACHE_WRITE,
    },
)


def format_price(per_million: float) -> str:
    return f"{per_million:g}"


def _labels(*groups: Sequence[str]) -> str:
    seen: list[str] = []
    for group in groups:
        seen.extend(label for label in group if label not in seen)
    return ", ".join(seen)


def _set_label(expr: str, label: str, value: str) -> str:
    return f'label_replace({expr}, "{label}", "{value}", "", "")'


def _priced_types(
    counter: TokenCounter, table: PricingTable, token_types: Sequence[str] | None
) -> list[tuple[ModelPrice, str]]:
    """(entry, token type) pairs with a price: a price that was always zero adds nothing."""
    types = list(token_types) if token_types is not None else list(counter.prices)
    pairs = [
        (price, token_type)
        for price in table.for_providers(counter.providers)
        for token_type in types
        if any(value > 0 for _, value in price.history(counter.prices[token_type]))
    ]
    if not pairs:
        raise PricingError(f"no priced model for {counter.metric} {types}")
    return pairs


def price_table(
    counter: TokenCounter,
    table: PricingTable,
    token_types: Sequence[str] | None = None,
    at: str = "time()",
) -> str:
    """PromQL: the pricing table as series, one per entry and token type with a price, labelled
    PRICE_ENTRY (the entry's model) and `counter`'s type label, valued in USD per token at the
    time `at` (price_at_time(): a recording rule keeps the price of its window's time)."""
    pairs = _priced_types(counter, table, token_types)
    # One group per token type, its entries told apart by PRICE_ENTRY, so `or` keeps them all.
    groups = [
        _set_label(
            " or ".join(
                _set_label(
                    f"vector({price_at_time(price, counter.prices[token_type], at)})",
                    names.PRICE_ENTRY,
                    price.model,
                )
                for price, priced_type in pairs
                if priced_type == token_type
            ),
            counter.type_label,
            token_type,
        )
        for token_type in dict.fromkeys(priced_type for _, priced_type in pairs)
    ]
    return f"(({' or '.join(groups)}) / 1e6)"


def with_price_entry(expr: str, model_label: str, prices: Sequence[ModelPrice]) -> str:
    """`expr` with PRICE_ENTRY set to the entry whose anchored `match` takes the series'
    `model_label`: a chain of label_replace, one per entry (patterns never overlap, so at most
    one sets it). A series of a model the table does not price keeps no entry."""
    for price in prices:
        expr = (
            f'label_replace({expr}, "{names.PRICE_ENTRY}", "{price.model}", '
            f'"{model_label}", "{price.match}")'
        )
    return expr


def priced_tokens(
    tokens: str,
    counter: TokenCounter,
    table: PricingTable,
    by: Sequence[str] = (),
    token_types: Sequence[str] | None = None,
    at: str = "time()",
) -> str:
    """PromQL: USD by `by` of `tokens`, token counts by (at least) `counter`'s model and type
    labels: each series tagged with its pricing entry and multiplied by that entry's price of
    its type at `at`. Models absent from the table, and prices that were always zero, add
    nothing."""
    tagged = with_price_entry(tokens, counter.model_label, table.for_providers(counter.providers))
    prices = price_table(counter, table, token_types, at)
    joined = f"{tagged} * on ({names.PRICE_ENTRY}, {counter.type_label}) group_left() {prices}"
    grouping = f" by ({_labels(by)})" if by else ""
    return f"sum{grouping} ({joined})"


def _type_matcher(counter: TokenCounter, token_types: Sequence[str] | None, matchers: str) -> str:
    types = list(token_types) if token_types is not None else list(counter.prices)
    unknown = [token_type for token_type in types if token_type not in counter.prices]
    if unknown:
        raise PricingError(f"{counter.metric} has no priced token type {', '.join(unknown)}")
    return ", ".join(m for m in (f'{counter.type_label}=~"{"|".join(types)}"', matchers) if m)


def recorded_token_cost(
    counter: TokenCounter,
    window: Window | str,
    by: Sequence[str] = (),
    token_types: Sequence[str] | None = None,
    matchers: str = "",
) -> str:
    """PromQL: USD of the tokens `counter` counted in `window`, summed by `by`, read from its
    priced record, whose every 5-minute window was priced at that window's price when it was
    recorded (a plain sum_over_time, however long the window). `token_types` limits it to some
    types (default: every priced type); `matchers` is the inside of a selector's braces."""
    if counter.priced_record is None:
        raise PricingError(f"{counter.metric} has no priced record: use derived_cost()")
    inside = _type_matcher(counter, token_types, matchers)
    grouping = f" by ({_labels(by)})" if by else ""
    span = Window.of(window).range()
    return f"sum{grouping} (sum_over_time({counter.priced_record}{{{inside}}}{span}))"


def derived_cost(
    counter: TokenCounter,
    window: Window | str,
    by: Sequence[str] = (),
    token_types: Sequence[str] | None = None,
    *,
    table: PricingTable,
    matchers: str = "",
) -> str:
    """PromQL: USD of the tokens `counter` counted in `window` from the raw series, summed by
    `by`: each series' growth counted once and priced from `table` at the price of the window's
    last second (price_time(); what a recording rule records). `token_types` limits it to some
    types (default: every priced type); `matchers` is the inside of a selector's braces."""
    inside = _type_matcher(counter, token_types, matchers)
    inner = _labels(by, (counter.model_label, counter.type_label))
    growth = f"sum by ({inner}) ({observed_increase(f'{counter.metric}{{{inside}}}', window)})"
    return priced_tokens(growth, counter, table, by, token_types, price_time(window))


def _quoted(price: ModelPrice, kind: PriceKind) -> str:
    return f"{kind.value.replace('_', ' ')} ${format_price(price.price(kind))}"


def price_list(
    kinds: Sequence[PriceKind],
    providers: Sequence[str] | None,
    table: PricingTable,
) -> str:
    """A sentence quoting the prices a panel uses, with the table's date and sources."""
    entries = "; ".join(
        f"{price.model} " + ", ".join(_quoted(price, kind) for kind in kinds)
        for price in table.for_providers(providers)
    )
    sources = " and ".join(sorted(table.sources))
    return (
        f"List prices in USD per million tokens from configs/pricing.yaml, taken "
        f"{table.as_of.isoformat()} from the {sources} price pages: {entries}."
    )
