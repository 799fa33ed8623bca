"""Run the report's queries: one evaluation per day at the day's end, batched in range queries."""

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from tools.report import queries
from tools.report.api import LokiApi, PrometheusApi
from tools.report.data import Daily, Key, ReportData
from tools.report.money import decimal_of
from tools.report.period import DAY_SECONDS, Bucket, Period, day_of_timestamp
from tools.report.queries import Query

Api = PrometheusApi | LokiApi
Progress = Callable[[str], None]
# Loki refuses queries longer than its max_query_length (721h by default): a week per request
# stays far below it; Prometheus takes the whole month in one range query.
MAX_DAYS_PER_REQUEST = {"prometheus": 62, "loki": 7}


def _batches(buckets: list[Bucket], max_days: int) -> list[list[Bucket]]:
    """Consecutive whole days in runs of at most `max_days`; a running day on its own."""
    batches: list[list[Bucket]] = []
    for bucket in buckets:
        last = batches[-1] if batches else None
        if (
            last is not None
            and bucket.complete
            and last[-1].complete
            and bucket.end - last[-1].end == DAY_SECONDS
            and len(last) < max_days
        ):
            last.append(bucket)
        else:
            batches.append([bucket])
    return batches


def _evaluate(api: Api, query: Query, batch: list[Bucket]) -> list[dict[str, Any]]:
    """A range query with a one-day step is an instant query at each day's end."""
    if len(batch) == 1:
        return api.instant(query.expr(batch[0].window), batch[0].end)
    return api.range(query.expr("1d"), batch[0].end, batch[-1].end, DAY_SECONDS)


def _key(metric: dict[str, str], labels: tuple[str, ...]) -> Key:
    return tuple(metric.get(label, "") for label in labels)


def daily(api: Api, query: Query, buckets: list[Bucket], source: str) -> Daily:
    table = Daily(query.labels)
    wanted = {bucket.day for bucket in buckets}
    for batch in _batches(buckets, MAX_DAYS_PER_REQUEST[source]):
        for series in _evaluate(api, query, batch):
            key = _key(series["metric"], query.labels)
            for moment, value in series["values"]:
                day = day_of_timestamp(float(moment))
                amount = decimal_of(value)
                if day in wanted and amount is not None:
                    table.add(day, key, amount)
    return table


def daily_quantile(api: Api, query: Query, buckets: list[Bucket]) -> dict[date, Decimal | None]:
    """One value per day (no labels); NaN (no observations) becomes None."""
    values: dict[date, Decimal | None] = {}
    for batch in _batches(buckets, MAX_DAYS_PER_REQUEST["prometheus"]):
        for series in _evaluate(api, query, batch):
            for moment, value in series["values"]:
                values[day_of_timestamp(float(moment))] = decimal_of(value)
    return values


def period_quantile(api: Api, query: Query, period: Period) -> dict[Key, Decimal | None]:
    window = period.whole_window()
    result = api.instant(query.expr(f"{window.seconds}s"), window.end)
    return {_key(s["metric"], query.labels): decimal_of(s["values"][0][1]) for s in result}


def collect(
    period: Period,
    prometheus: PrometheusApi,
    loki: LokiApi | None,
    progress: Progress,
) -> ReportData:
    buckets = period.buckets()
    steps = (
        len(queries.DAILY_PROMETHEUS)
        + len(queries.PERIOD_PROMETHEUS)
        + (len(queries.DAILY_LOKI) if loki else 0)
    )
    done = 0

    def step(query: Query) -> None:
        nonlocal done
        done += 1
        progress(f"[{done}/{steps}] {query.name} ({query.source})")

    tables: dict[str, Daily] = {}
    daily_quantiles: dict[str, dict[date, Decimal | None]] = {}
    for query in queries.DAILY_PROMETHEUS:
        step(query)
        if query.labels:
            tables[query.name] = daily(prometheus, query, buckets, "prometheus")
        else:
            daily_quantiles[query.name] = daily_quantile(prometheus, query, buckets)
    period_quantiles = {}
    for query in queries.PERIOD_PROMETHEUS:
        step(query)
        period_quantiles[query.name] = period_quantile(prometheus, query, period)
    if loki is not None:
        for query in queries.DAILY_LOKI:
            step(query)
            tables[query.name] = daily(loki, query, buckets, "loki")
    return ReportData(
        period=period,
        prometheus_url=prometheus.client.base_url,
        loki_url=loki.client.base_url if loki else None,
        daily=tables,
        daily_quantiles=daily_quantiles,
        period_quantiles=period_quantiles,
    )
