"""The geometry of the supervisor's pictures, drawn by the templates as inline SVG.

Every shape is placed here in plain numbers (x, y, width, height in the SVG's own units) and
coloured by a CSS class from aura.css: no inline styles (the CSP forbids them) and no script.
Labels are data, escaped by the templates like any other text. Each picture also carries the
numbers it shows, for the table beside it that screen readers (and anyone) can read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
HEAT_LEVELS = 5  # heat-1 … heat-5 in aura.css; heat-0 is an hour with nothing


@dataclass(frozen=True)
class Series:
    key: str  # the value's name in each point
    label: str
    css: str  # the class that colours its bars


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str  # what a pointer hovering on the bar is told


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class XLabel:
    x: float
    label: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    plot_left: int
    plot_bottom: int
    bars: list[Bar]
    ticks: list[Tick]
    x_labels: list[XLabel]
    series: Sequence[Series]
    empty: bool


def _round(value: float) -> float:
    return round(value, 1)


def nice_ceiling(value: int) -> int:
    """The axis top: 1, 2 or 5 times a power of ten, at least ``value`` (and at least 1)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def day_bars(
    points: Sequence[tuple[date, dict[str, int]]],
    series: Sequence[Series],
    *,
    width: int = 720,
    height: int = 220,
) -> BarChart:
    """Bars per day, one bar per series side by side, on a shared axis from zero."""
    left, right, top, bottom = 44, 8, 10, 24
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((point[key.key] for _day, point in points for key in series), default=0)
    axis_top = nice_ceiling(peak)
    slot = plot_w / max(len(points), 1)
    gap = min(4.0, slot * 0.2)
    bar_w = (slot - gap) / max(len(series), 1)
    bars = []
    for index, (day, point) in enumerate(points):
        for offset, one in enumerate(series):
            value = point[one.key]
            bar_h = plot_h * value / axis_top
            bars.append(
                Bar(
                    x=_round(left + index * slot + gap / 2 + offset * bar_w),
                    y=_round(top + plot_h - bar_h),
                    width=_round(max(bar_w, 0.5)),
                    height=_round(bar_h),
                    css=one.css,
                    title=f"{day:%a %-d %b}: {value:,} {one.label.lower()}",
                )
            )
    ticks = [
        Tick(y=_round(top + plot_h - plot_h * share), label=f"{round(axis_top * share):,}")
        for share in (0, 0.5, 1)
    ]
    every = max(1, len(points) // 6)
    x_labels = [
        XLabel(x=_round(left + index * slot + slot / 2), label=f"{day:%-d %b}")
        for index, (day, _point) in enumerate(points)
        if index % every == 0 or index == len(points) - 1
    ]
    return BarChart(width, height, left, top + plot_h, bars, ticks, x_labels, series, peak == 0)


@dataclass(frozen=True)
class HeatCell:
    x: float
    y: float
    size: float
    level: int  # 0 (nothing) to HEAT_LEVELS
    title: str


@dataclass(frozen=True)
class HeatMap:
    width: int
    height: int
    cells: list[HeatCell]
    rows: list[tuple[float, str]]  # (y, weekday's short name)
    columns: list[tuple[float, str]]  # (x, hour)
    values: list[list[int]]  # [weekday][hour], for the table
    weekdays: Sequence[str]
    peak: int


def heat_level(value: int, peak: int) -> int:
    if value <= 0 or peak <= 0:
        return 0
    return max(1, min(HEAT_LEVELS, -(-value * HEAT_LEVELS // peak)))


def heatmap(values: list[list[int]], *, cell: int = 24) -> HeatMap:
    """A day-of-week by hour grid (Monday first, hours 0 to 23), darker for busier hours."""
    left, top = 40, 18
    peak = max((value for row in values for value in row), default=0)
    cells = [
        HeatCell(
            x=left + hour * cell,
            y=top + weekday * cell,
            size=cell - 2,
            level=heat_level(values[weekday][hour], peak),
            title=f"{WEEKDAYS[weekday]} {hour:02d}:00 to {hour:02d}:59: {values[weekday][hour]:,}",
        )
        for weekday in range(7)
        for hour in range(24)
    ]
    rows = [(top + weekday * cell + cell / 2 + 4, WEEKDAYS[weekday][:3]) for weekday in range(7)]
    columns = [(left + hour * cell + cell / 2 - 1, f"{hour:02d}") for hour in range(0, 24, 3)]
    return HeatMap(left + 24 * cell, top + 7 * cell, cells, rows, columns, values, WEEKDAYS, peak)


@dataclass(frozen=True)
class RankBar:
    y: float  # the top of the row: its label, then its bar
    width: float
    label: str
    value: int


@dataclass(frozen=True)
class Ranking:
    width: int
    height: int
    row_height: int
    bars: list[RankBar]


LABEL_MAX = 60  # characters of a title drawn in the picture (the table beside it has all)


def ranking(items: Sequence[tuple[str, int]], *, width: int = 520) -> Ranking:
    """Horizontal bars, one row per (label, value), in the order given."""
    row_h = 34
    plot_w = width - 70
    peak = max((value for _label, value in items), default=0) or 1
    bars = [
        RankBar(
            y=index * row_h,
            width=_round(max(1.0, plot_w * value / peak)),
            label=label if len(label) <= LABEL_MAX else label[: LABEL_MAX - 1] + "…",
            value=value,
        )
        for index, (label, value) in enumerate(items)
    ]
    return Ranking(width, max(row_h, len(items) * row_h), row_h, bars)
