"""Grafana's variables are substituted as Grafana's Prometheus backend substitutes them."""

import pytest

from tools.querylab.prometheus import (
    QueryContext,
    format_go_duration,
    interpolate,
    parse_duration,
    round_interval,
)

DAY = 86_400.0


def test_seven_day_range() -> None:
    context = QueryContext(start=0.0, end=7 * DAY)
    # 7d / 1000 points = 604.8 s -> rounded to 10m; rate interval = 10m + 15s.
    assert interpolate("x[$__interval] y[$__rate_interval] z[$__range]", context) == (
        "x[10m] y[10m15s] z[604800s]"
    )


def test_short_range_rate_interval_is_four_scrapes() -> None:
    context = QueryContext(start=0.0, end=3600.0)
    assert interpolate("rate(x[$__rate_interval])", context) == "rate(x[1m0s])"
    assert interpolate(
        "rate(x[$__rate_interval])", QueryContext(0.0, 3600.0, scrape_interval="60s")
    ) == ("rate(x[4m0s])")


def test_min_interval_one_day_gives_daily_steps() -> None:
    context = QueryContext(start=0.0, end=7 * DAY, min_interval="1d")
    assert context.step == DAY
    assert interpolate("increase(x[$__interval]) ${__range_s} $__range_ms", context) == (
        "increase(x[1d]) 604800 604800000"
    )


def test_template_variables_single_multi_and_formats() -> None:
    context = QueryContext(
        start=0.0, end=DAY, variables={"model": ["a.b", "c"], "user": "dev1", "all": ".*"}
    )
    expr = 'x{model=~"$model", user="${user}", app=~"[[all]]"} ${model:pipe}'
    assert interpolate(expr, context) == r'x{model=~"(a\\.b|c)", user="dev1", app=~".*"} a.b|c'


def test_unknown_variables_are_left_for_the_check_to_reject() -> None:
    assert interpolate('x{a="$nope"}', QueryContext(0.0, DAY)) == 'x{a="$nope"}'


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(0.9, 1.0), (86.4, 60.0), (604.8, 600.0), (3600 * 2.4, 7200.0), (DAY * 1.5, DAY)],
)
def test_round_interval_table(seconds: float, expected: float) -> None:
    assert round_interval(seconds) == expected


def test_durations() -> None:
    assert parse_duration("1m30s") == 90 and parse_duration("15") == 15
    assert format_go_duration(75) == "1m15s" and format_go_duration(3600) == "1h0m0s"
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("5 minutes")
