"""List prices the generator charges, USD per million tokens (as published by the providers).

These are the generator's own numbers so its true totals are exact; the dashboards' pricing table
lives in configs/ and is documented on the panels that use it.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelPrice:
    model: str
    provider: str
    input: float
    output: float
    cache_write: float
    cache_read: float

    def cost(
        self, input_tokens: int, output_tokens: int, cache_read: int, cache_write: int
    ) -> float:
        per_token = (
            input_tokens * self.input
            + output_tokens * self.output
            + cache_read * self.cache_read
            + cache_write * self.cache_write
        )
        return per_token / 1_000_000


OPUS = ModelPrice("claude-opus-4-1-20250805", "anthropic", 15.0, 75.0, 18.75, 1.50)
SONNET = ModelPrice("claude-sonnet-4-5-20250929", "anthropic", 3.0, 15.0, 3.75, 0.30)
HAIKU = ModelPrice("claude-haiku-4-5-20251001", "anthropic", 1.0, 5.0, 1.25, 0.10)
GPT_4O = ModelPrice("gpt-4o-2024-08-06", "openai", 2.5, 10.0, 0.0, 1.25)
GPT_4O_MINI = ModelPrice("gpt-4o-mini-2024-07-18", "openai", 0.15, 0.60, 0.0, 0.075)

PRICES: dict[str, ModelPrice] = {p.model: p for p in (OPUS, SONNET, HAIKU, GPT_4O, GPT_4O_MINI)}
