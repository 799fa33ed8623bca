"""The report's charts as PNG bytes, drawn with matplotlib's Agg renderer (no display needed).

Figures are made with `matplotlib.figure.Figure` directly, never pyplot, so nothing depends on a
global backend or leaks figures between calls.
"""

import io
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

from matplotlib.axes import Axes
from matplotlib.figure import Figure

PALETTE = ("#3b6fb6", "#e08a2c", "#4d9a5a", "#c4493f", "#8a63b3", "#7f7f7f", "#b5a135", "#3fa6b5")
GREY = "#9a9a9a"
WIDTH, HEIGHT, DPI = 9.0, 3.4, 110


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _day_labels(days: Sequence[date]) -> list[str]:
    if len({day.month for day in days}) == 1 and len(days) > 10:
        return [str(day.day) for day in days]
    return [day.strftime("%b %d") for day in days]


def _mark_no_data(axes: Axes, positions: Sequence[int], label: str = "no data") -> None:
    for position in positions:
        # x in data, y in axes units: the label sits at the bottom whatever the scale.
        axes.text(
            position,
            0.02,
            label,
            rotation=90,
            ha="center",
            va="bottom",
            fontsize=7,
            color=GREY,
            transform=axes.get_xaxis_transform(),
        )


def stacked_daily_bars(
    days: Sequence[date],
    stacks: Mapping[str, Mapping[date, Decimal]],
    no_data: Sequence[date],
    ylabel: str,
    reference: tuple[str, Decimal] | None = None,
) -> bytes:
    """One bar per day, stacked by series; days without data are labelled, not drawn as 0."""
    figure = Figure(figsize=(WIDTH, HEIGHT), layout="constrained")
    axes = figure.add_subplot()
    positions = list(range(len(days)))
    bottoms = [0.0] * len(days)
    for index, (name, values) in enumerate(stacks.items()):
        heights = [float(values.get(day, 0)) for day in days]
        axes.bar(positions, heights, bottom=bottoms, label=name, color=PALETTE[index % 8])
        bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
    if reference is not None:
        axes.axhline(float(reference[1]), color=PALETTE[3], linestyle="--", linewidth=1)
        axes.text(
            -0.5,
            float(reference[1]),
            reference[0],
            ha="left",
            va="bottom",
            fontsize=8,
            color=PALETTE[3],
        )
    _mark_no_data(axes, [days.index(day) for day in no_data])
    axes.set_xticks(positions, _day_labels(days), fontsize=8)
    axes.set_ylim(bottom=0)
    axes.set_ylabel(ylabel)
    axes.grid(axis="y", alpha=0.3)
    if stacks:
        axes.legend(fontsize=8, loc="upper left", frameon=False, ncols=min(len(stacks), 4))
    return _png(figure)


def horizontal_bars(labels: Sequence[str], values: Sequence[Decimal], xlabel: str) -> bytes:
    """Largest first, top to bottom."""
    height = max(1.6, 0.35 * len(labels) + 0.8)
    figure = Figure(figsize=(WIDTH, height), layout="constrained")
    axes = figure.add_subplot()
    positions = list(range(len(labels)))[::-1]
    axes.barh(positions, [float(value) for value in values], color=PALETTE[0])
    axes.set_yticks(positions, labels, fontsize=8)
    axes.set_xlabel(xlabel)
    axes.grid(axis="x", alpha=0.3)
    return _png(figure)


def cumulative_against_budget(
    days: Sequence[date],
    cumulative: Mapping[date, Decimal],
    budget: Decimal,
    projection: Decimal | None,
) -> bytes:
    """Spend so far as a line, the budget's straight line, and the run-rate projection."""
    figure = Figure(figsize=(WIDTH, HEIGHT), layout="constrained")
    axes = figure.add_subplot()
    positions = list(range(len(days)))
    budget_line = [float(budget) * (i + 1) / len(days) for i in positions]
    axes.plot(positions, budget_line, color=PALETTE[3], linestyle="--", label="budget (linear)")
    spent = [(days.index(day), float(value)) for day, value in sorted(cumulative.items())]
    if spent:
        axes.plot(
            *zip(*spent, strict=True), color=PALETTE[0], marker="o", markersize=3, label="spent"
        )
        if projection is not None and spent[-1][0] < len(days) - 1:
            axes.plot(
                [spent[-1][0], len(days) - 1],
                [spent[-1][1], float(projection)],
                color=PALETTE[0],
                linestyle=":",
                label="projection",
            )
    axes.set_xticks(positions, _day_labels(days), fontsize=8)
    axes.set_ylabel("USD, cumulative")
    axes.grid(axis="y", alpha=0.3)
    axes.legend(fontsize=8, loc="upper left", frameon=False)
    return _png(figure)


def bars_with_line(
    days: Sequence[date],
    bars: Mapping[date, Decimal],
    line: Mapping[date, Decimal | None],
    bar_label: str,
    line_label: str,
    no_data: Sequence[date],
) -> bytes:
    """Counts as bars (left axis) and a per-day value as a line (right axis)."""
    figure = Figure(figsize=(WIDTH, HEIGHT), layout="constrained")
    axes = figure.add_subplot()
    positions = list(range(len(days)))
    axes.bar(
        positions, [float(bars.get(day, 0)) for day in days], color=PALETTE[3], label=bar_label
    )
    axes.set_ylabel(bar_label)
    right = axes.twinx()
    points = [(i, float(v)) for i, day in enumerate(days) if (v := line.get(day)) is not None]
    if points:
        right.plot(*zip(*points, strict=True), color=PALETTE[0], marker="o", markersize=3)
    right.set_ylim(bottom=0)
    right.set_ylabel(line_label)
    _mark_no_data(axes, [days.index(day) for day in no_data])
    axes.set_xticks(positions, _day_labels(days), fontsize=8)
    axes.grid(axis="y", alpha=0.3)
    return _png(figure)
