"""The apps' GenAI tokens of every generation of the conventions, read as one.

Apps on the 2025 conventions (and Grafana's agento11y SDK) send `gen_ai.client.token.usage`
with a `gen_ai_token_type` label; apps on semantic-conventions-genai (2026) send one counter per
category, where input counts cached tokens and output counts reasoning (docs/telemetry.md). Both
become one label set here: `gen_ai_token_type` input (not cached), cache_read, cache_write and
output (reasoning included, as providers bill it), so every category is counted once; spend
prices each at its own column of the pricing table (vocabulary/recording.py's raw_spend()).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from vocabulary import names
from vocabulary.windows import Window, observed_increase

# The 2026 counter of each token category (fresh input is derived: input minus both caches).
INFERENCE_COUNTERS: Final = {
    "input": names.APP_INFERENCE_INPUT,
    "cache_read": names.APP_INFERENCE_CACHE_READ,
    "cache_write": names.APP_INFERENCE_CACHE_WRITE,
    "output": names.APP_INFERENCE_OUTPUT,
}
# Reasoning is part of output on both generations: left out so it is not counted twice.
COUNTED_TOKEN_TYPES: Final = ("input", "cache_read", "cache_write", "output")


def _selector(metric: str, matchers: Sequence[str]) -> str:
    inside = ", ".join(m for m in matchers if m)
    return f"{metric}{{{inside}}}"


def _set_type(expr: str, token_type: str) -> str:
    label = names.APP_TOKEN_TYPE
    return f'label_replace({expr}, "{label}", "{token_type}", "{label}", ".*")'


def _inference_sum(
    token_type: str, window: Window | str, by: str, matchers: Sequence[str] = ()
) -> str:
    increase = observed_increase(_selector(INFERENCE_COUNTERS[token_type], matchers), window)
    return f"sum by ({by}) ({increase})"


def _fresh_input(window: Window | str, by: str, matchers: Sequence[str] = ()) -> str:
    """2026 input minus the cached tokens in it, each counter read once: the three sums told
    apart by a `part` label and added up, so a missing cache counter counts as 0."""
    parts = [
        f'label_replace({counted}, "part", "{part}", "", "")'
        for part, counted in (
            ("input", _inference_sum("input", window, by, matchers)),
            ("cache_read", f"-{_inference_sum('cache_read', window, by, matchers)}"),
            ("cache_write", f"-{_inference_sum('cache_write', window, by, matchers)}"),
        )
    ]
    return f"sum by ({by}) ({' or '.join(parts)})"


def tokens(window: Window | str, by: Sequence[str], matchers: str = "") -> str:
    """Tokens by `by` and gen_ai_token_type from the raw series of both generations; `matchers`
    is the inside of a selector's braces."""
    grouping = ", ".join(by)
    counted = "|".join(COUNTED_TOKEN_TYPES)
    usage = _selector(names.APP_TOKENS, [f'{names.APP_TOKEN_TYPE}=~"{counted}"', matchers])
    generation_2025 = (
        f"sum by ({grouping}, {names.APP_TOKEN_TYPE}) ({observed_increase(usage, window)})"
    )
    generation_2026 = [
        _set_type(
            _fresh_input(window, grouping, [matchers])
            if kind == "input"
            else _inference_sum(kind, window, grouping, [matchers]),
            kind,
        )
        for kind in COUNTED_TOKEN_TYPES
    ]
    return "(" + " or ".join([generation_2025, *generation_2026]) + ")"
