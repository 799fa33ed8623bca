"""The pricing table (configs/pricing.yaml) and the PromQL that derives cost from token counts.

A derived cost is a per-model `or`-chain: for each priced model and token type, the tokens
counted in the window times that model's price for that type. Each term keeps the model and
token-type labels, so `or` unions the terms instead of dropping one, and an outer `sum` adds
them up. Changing a price in the YAML changes these queries and the descriptions that quote
the price; nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache
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
class ModelPrice:
    """One model's list prices in USD per million tokens; `match` is an anchored RE2 pattern."""

    model: str
    provider: str
    match: str
    input: float
    output: float
    cache_read: float
    cache_write: float

    def price(self, kind: PriceKind) -> float:
        return float(getattr(self, kind.value))

    def matches(self, model_id: str) -> bool:
        return re.fullmatch(self.match, model_id) is not None


@dataclass(frozen=True)
class PricingTable:
    as_of: date
    sources: Mapping[str, str]
    models: tuple[ModelPrice, ...]

    def for_providers(self, providers: Sequence[str] | None) -> tuple[ModelPrice, ...]:
        if providers is None:
            return self.models
        return tuple(price for price in self.models if price.provider in providers)

    def price_of(self, model_id: str) -> ModelPrice | None:
        """The entry whose pattern matches `model_id` (patterns never overlap)."""
        return next((price for price in self.models if price.matches(model_id)), None)


class PricingError(ValueError):
    """The pricing table is malformed; the message names the entry and the problem."""


def _model_price(entry: Mapping[str, Any], position: int) -> ModelPrice:
    name = entry.get("model", f"entry {position}")
    try:
        price = ModelPrice(
            model=str(entry["model"]),
            provider=str(entry["provider"]),
            match=str(entry.get("match") or re.escape(str(entry["model"]))),
            **{kind.value: float(entry[kind.value]) for kind in PriceKind},
        )
    except KeyError as missing:
        raise PricingError(f"{PRICING_FILE.name}: {name} has no {missing}") from None
    if any(price.price(kind) < 0 for kind in PriceKind):
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

    def increase(self, matchers: str, window: Window | str, recorded: bool) -> str:
        # `matchers` is the inside of a selector's braces.
        """Growth per series in `window`: from the recorded windows, or from the raw series
        (what the recording rules themselves read)."""
        if recorded:
            record = names.record_name(self.metric)
            return f"sum_over_time({record}{{{matchers}}}{Window.of(window).range()})"
        return observed_increase(f"{self.metric}{{{matchers}}}", window)


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
)
# gen_ai.client.token.usage: input and output on the 2025 conventions (cached input priced as
# input); agento11y adds cache_read and cache_write beside a non-cached input. Its reasoning
# type is part of output, so it has no price of its own.
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


def derived_cost(
    counter: TokenCounter,
    window: Window | str,
    by: Sequence[str] = (),
    token_types: Sequence[str] | None = None,
    *,
    table: PricingTable,
    recorded: bool = True,
    matchers: str = "",
) -> str:
    """PromQL: USD of the tokens `counter` counted in `window`, summed by `by`, at `table`'s
    prices. `token_types` limits it to some types (default: every priced type). Models absent
    from the table, and prices of zero, add nothing."""
    types = list(token_types) if token_types is not None else list(counter.prices)
    inner = _labels(by, (counter.model_label, counter.type_label))
    terms = [
        f"sum by ({inner}) ("
        + counter.increase(
            f'{counter.type_label}="{token_type}", {counter.model_label}=~"{price.match}"'
            + (f", {matchers}" if matchers else ""),
            window,
            recorded,
        )
        + f") * {format_price(price.price(counter.prices[token_type]))} / 1e6"
        for price in table.for_providers(counter.providers)
        for token_type in types
        if price.price(counter.prices[token_type]) > 0
    ]
    if not terms:
        raise PricingError(f"no priced model for {counter.metric} {types}")
    grouping = f" by ({_labels(by)})" if by else ""
    return f"sum{grouping} (" + " or ".join(terms) + ")"


def _quoted(price: ModelPrice, kind: PriceKind) -> str:
    return f"{kind.value.replace('_', ' ')} ${format_price(price.price(kind))}"


def price_list(
    kinds: Sequence[PriceKind],
    providers: Sequence[str] | None = None,
    table: PricingTable | None = None,
) -> str:
    """A sentence quoting the prices a panel uses, with the table's date and sources."""
    table = table or load_pricing()
    entries = "; ".join(
        f"{price.model} " + ", ".join(_quoted(price, kind) for kind in kinds)
        for price in table.for_providers(providers)
    )
    sources = " and ".join(sorted(table.sources))
    return (
        f"List prices in USD per million tokens from configs/pricing.yaml, taken "
        f"{table.as_of.isoformat()} from the {sources} price pages: {entries}."
    )
