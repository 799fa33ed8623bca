"""configs/pricing.yaml holds dated prices: each with its source and where it was confirmed, the
prices before a change, and the models billed now that it cannot price yet."""

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from vocabulary.pricing import load_pricing

PRICING_FILE = Path(__file__).resolve().parents[1] / "configs" / "pricing.yaml"
PRICE_KINDS = ("input", "output", "cache_read", "cache_write", "cache_write_1h")
CHECKED = {"pages-2026-04", "table-2026-11-23", "field-notes"}
# Claude Code's current lineup and the older models still billed (FIELD-NOTES, autumn 2026).
BILLED_NOW = (
    "claude-opus-5-5",
    "claude-sonnet-5-5",
    "claude-haiku-5-5",
    "claude-fable-5-1",
    "claude-opus-4-7",
    "claude-opus-4-6",
    "claude-opus-4-5",
    "claude-sonnet-4-6",
    "claude-opus-4-1",
)


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return yaml.safe_load(PRICING_FILE.read_text(encoding="utf-8"))


def effective(record: dict[str, Any]) -> date:
    """None is "since launch": earlier than any dated price."""
    return record["effective"] or date.min


def test_every_price_has_a_source_a_date_and_where_it_was_confirmed(
    document: dict[str, Any],
) -> None:
    for entry in document["models"]:
        for record in [entry, *entry.get("earlier", [])]:
            assert record["source"] in document["sources"], entry["model"]
            assert record["checked"] in CHECKED, entry["model"]
            assert record["effective"] is None or isinstance(record["effective"], date)
            assert all(record[kind] >= 0 for kind in PRICE_KINDS), entry["model"]


def test_earlier_prices_are_newest_first_and_before_the_current_one(
    document: dict[str, Any],
) -> None:
    for entry in document["models"]:
        dates = [effective(entry), *(effective(r) for r in entry.get("earlier", []))]
        assert dates == sorted(dates, reverse=True), entry["model"]
        assert len(set(dates)) == len(dates), entry["model"]


def test_sonnet_5_5_cache_read_changed_on_2026_10_07(document: dict[str, Any]) -> None:
    sonnet = next(e for e in document["models"] if e["model"] == "claude-sonnet-5-5")

    assert (sonnet["effective"], sonnet["cache_read"]) == (date(2026, 10, 7), 0.10)
    assert [(r["effective"], r["cache_read"]) for r in sonnet["earlier"]] == [(None, 0.20)]


def test_every_model_billed_now_is_priced_at_its_current_price() -> None:
    table = load_pricing()
    for model in BILLED_NOW:
        assert table.price_of(model) is not None, model
    assert table.as_of <= date.today()


def test_one_hour_cache_writes_cost_more_than_five_minute_ones(document: dict[str, Any]) -> None:
    for entry in document["models"]:
        if entry["provider"] == "anthropic":
            assert entry["cache_write_1h"] > entry["cache_write"] > entry["input"], entry["model"]


def test_unpriced_models_are_named_with_why_and_match_no_price(document: dict[str, Any]) -> None:
    table = load_pricing()
    for entry in document["unpriced"]:
        assert table.price_of(entry["model"]) is None, entry["model"]
        assert re.search(r"https://", entry["why"]), entry["model"]
