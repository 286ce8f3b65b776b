"""The trend chart's geometry: small multiples, one row of bars per substance or kind of claim.

Only numbers are computed here; ``templates/_chart.html`` draws them as inline SVG (no script, no
external resource), so every label passes through the template's escaping. Each row is scaled to
its own largest count and prints its figures beside the bars, so a rare substance's rise is as
visible as a common one's; the figures, not the bar heights, compare rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from reports.model import Trend

WIDTH = 640
LABEL_WIDTH = 190
BAR_WIDTH = 26
BAR_GAP = 8
ROW_HEIGHT = 34
BAR_MAX = 22
TOP = 22  # room for the column labels
MAX_ROWS = 8
ARROWS = {"up": "▲", "down": "▼", "new": "new", "same": ""}


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    window: str
    current: bool


@dataclass(frozen=True, slots=True)
class ChartRow:
    name: str
    y: float  # baseline of the row's bars
    bars: tuple[Bar, ...]
    current: int
    average: float
    change: str
    arrow: str


@dataclass(frozen=True, slots=True)
class Column:
    x: float  # centre
    label: str
    current: bool


@dataclass(frozen=True, slots=True)
class Chart:
    title: str
    description: str
    width: int
    height: int
    figures_x: float
    columns: tuple[Column, ...]
    rows: tuple[ChartRow, ...]
    omitted: int  # rows beyond MAX_ROWS, left out of the chart (they are in the table)


def layout(trend: Trend, max_rows: int = MAX_ROWS) -> Chart:
    count = len(trend.windows)
    step = BAR_WIDTH + BAR_GAP
    columns = tuple(
        Column(LABEL_WIDTH + i * step + BAR_WIDTH / 2, label, i == count - 1)
        for i, label in enumerate(trend.windows)
    )
    rows = []
    for index, row in enumerate(trend.rows[:max_rows]):
        base = TOP + (index + 1) * ROW_HEIGHT - 8
        peak = max(row.counts) or 1
        bars = tuple(
            Bar(
                x=LABEL_WIDTH + i * step,
                y=base - max(1.0, BAR_MAX * value / peak) if value else base - 1,
                width=BAR_WIDTH,
                height=max(1.0, BAR_MAX * value / peak) if value else 1,
                value=value,
                window=trend.windows[i],
                current=i == count - 1,
            )
            for i, value in enumerate(row.counts)
        )
        rows.append(
            ChartRow(
                name=row.name,
                y=base,
                bars=bars,
                current=row.current,
                average=round(row.average, 1),
                change=row.change,
                arrow=ARROWS[row.change],
            )
        )
    shown = ", ".join(
        f"{r.name}: {r.current} this period, {r.average:.1f} a period before on average"
        for r in rows
    )
    return Chart(
        title=trend.title,
        description=(
            f"Bars for the last {count} periods, oldest first, this period darkest. {shown}."
            if rows
            else "No flagged articles in these periods."
        ),
        width=WIDTH,
        height=TOP + max(1, len(rows)) * ROW_HEIGHT + 4,
        figures_x=LABEL_WIDTH + count * step + 8,
        columns=columns,
        rows=tuple(rows),
        omitted=max(0, len(trend.rows) - max_rows),
    )
