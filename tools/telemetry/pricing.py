"""List prices the generator charges, USD per million tokens (as published by the providers).

These are the generator's own numbers so its true totals are exact; the dashboards' pricing table
lives in configs/ and is documented on the panels that use it.
"""

import math
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class ModelPrice:
    model: str
    provider: str
    input: float
    output: float
    cache_write: float
    cache_read: float
    # A cache-read price cut: `earlier_cache_read` applied before `cache_read_since` (a Unix time).
    earlier_cache_read: float | None = None
    cache_read_since: float = -math.inf

    def cache_read_at(self, time: float) -> float:
        if self.earlier_cache_read is not None and time < self.cache_read_since:
            return self.earlier_cache_read
        return self.cache_read

    def cost(
        self,
        input_tokens: int,
        output_tokens: int,
        cache_read: int,
        cache_write: int,
        time: float = math.inf,
    ) -> float:
        """USD of a request at the prices in force at `time` (default: today's)."""
        per_token = (
            input_tokens * self.input
            + output_tokens * self.output
            + cache_read * self.cache_read_at(time)
            + cache_write * self.cache_write
        )
        return per_token / 1_000_000


OPUS = ModelPrice("claude-opus-4-1-20250805", "anthropic", 15.0, 75.0, 18.75, 1.50)
SONNET = ModelPrice("claude-sonnet-4-5-20250929", "anthropic", 3.0, 15.0, 3.75, 0.30)
HAIKU = ModelPrice("claude-haiku-4-5-20251001", "anthropic", 1.0, 5.0, 1.25, 0.10)
GPT_4O = ModelPrice("gpt-4o-2024-08-06", "openai", 2.5, 10.0, 0.0, 1.25)
GPT_4O_MINI = ModelPrice("gpt-4o-mini-2024-07-18", "openai", 0.15, 0.60, 0.0, 0.075)

# The 2026 lineup (Scenario.lineup "2026"): Sonnet 5.5's cache read was cut from 0.20 to 0.10
# on 2026-10-07 (FIELD-NOTES, as configs/pricing.yaml).
OPUS_5_5 = ModelPrice("claude-opus-5-5", "anthropic", 4.0, 20.0, 5.0, 0.40)
SONNET_5_5 = ModelPrice(
    "claude-sonnet-5-5",
    "anthropic",
    2.0,
    10.0,
    2.5,
    0.10,
    earlier_cache_read=0.20,
    cache_read_since=datetime(2026, 10, 7, tzinfo=UTC).timestamp(),
)
# A model billed now that configs/pricing.yaml does not price (its `unpriced` list): stand-in
# prices, never seen by the stack (its app reports tokens only).
GPT_6_LUNA = ModelPrice("gpt-6-luna", "openai", 1.0, 8.0, 0.0, 0.1)

PRICES: dict[str, ModelPrice] = {
    p.model: p for p in (OPUS, SONNET, HAIKU, GPT_4O, GPT_4O_MINI, OPUS_5_5, SONNET_5_5)
}  # GPT_6_LUNA is left out: the table must not price it
