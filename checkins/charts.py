"""Small SVG charts drawn on the server: no JavaScript, no external CDN.

A :class:`Chart` holds what a reader needs: a title, the name and unit of each axis,
a legend naming each series, and the figures, which the page also shows as a table
(:meth:`Chart.rows`) for screen readers. Text is laid out with conservative width
estimates (:func:`text_width`): titles, axis names and legends wrap, axis labels wrap
or thin out, so no label runs outside the view box or over its neighbour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape
from typing import Literal

WIDTH = 560
PAD = 8
PLOT_HEIGHT = 160
TITLE_SIZE, NAME_SIZE, TICK_SIZE, VALUE_SIZE = 14, 12, 11, 10
# Both at least 3:1 against white (WCAG 1.4.11) and apart for colour-blind readers
# (blue-green against orange); lines also differ by dash and marker.
COLOURS = ("#0b7a75", "#b35c00")
DASHES = ("", "6 4")
INK, MUTED, GRID = "#1f2933", "#52606d", "#d9e2ec"
ELLIPSIS = "\u2026"

# Advance widths in em, rounded up from DejaVu Sans and Liberation Sans/Arial (the wider
# of the two), so an estimate is never short of what a browser draws.
_NARROW = set(" ijlt.,:;'|!()[]{}f/-")
_WIDE = set("MWmw%@\u2014\u2026")
BOLD_FACTOR = 1.15


def char_width(char: str) -> float:
    """A conservative advance width of one character, in em."""
    if char in _NARROW:
        return 0.42
    if char in _WIDE or ord(char) >= 0x2E80:  # CJK and wider scripts: a full em
        return 1.0
    if char.isupper():
        return 0.8
    if char.isascii():
        return 0.66
    return 0.8


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """A conservative estimate of the drawn width of ``text`` at font ``size`` (px)."""
    return sum(char_width(c) for c in text) * size * (BOLD_FACTOR if bold else 1.0)


def _clip(word: str, width: float, size: float, bold: bool = False) -> str:
    """``word`` cut (with an ellipsis) to fit ``width``; the full text is in the table."""
    if text_width(word, size, bold=bold) <= width:
        return word
    while word and text_width(word + ELLIPSIS, size, bold=bold) > width:
        word = word[:-1]
    return word + ELLIPSIS if word else ""


def wrap(text: str, width: float, size: float, *, bold: bool = False) -> list[str]:
    """``text`` in lines no wider than ``width`` (a word too long alone is clipped)."""
    lines: list[str] = []
    for word in text.split():
        if lines and text_width(f"{lines[-1]} {word}", size, bold=bold) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(_clip(word, width, size, bold))
    return lines or [""]


@dataclass(frozen=True)
class Series:
    """One line or set of bars: its legend text and one value per label (``None``: no data)."""

    name: str
    values: list[float | None]


@dataclass(frozen=True)
class Chart:
    """A chart and the words that make it readable.

    ``x_name`` / ``y_name`` name each axis with its unit ("Check-ins (number)");
    ``decimals`` is how values are written in the table and on bars.
    """

    key: str
    kind: Literal["line", "bar"]
    title: str
    x_name: str
    y_name: str
    labels: list[str]
    series: list[Series]
    top: float | None = None
    decimals: int = 0
    integer_ticks: bool = False
    empty_text: str = "-"

    def value_text(self, value: float | None) -> str:
        return self.empty_text if value is None else f"{value:.{self.decimals}f}"

    @property
    def rows(self) -> list[tuple[str, list[str]]]:
        """The figures as table rows: one per label, one cell per series."""
        return [
            (label, [self.value_text(s.values[i] if i < len(s.values) else None)
                     for s in self.series])
            for i, label in enumerate(self.labels)
        ]  # fmt: skip

    @property
    def svg(self) -> str:
        return render(self)


@dataclass
class _Canvas:
    parts: list[str] = field(default_factory=list)

    def text(
        self,
        x: float,
        y: float,
        content: str,
        size: int,
        *,
        anchor: str = "start",
        fill: str = INK,
        bold: bool = False,
    ) -> None:
        weight = ' font-weight="bold"' if bold else ""
        self.parts.append(
            f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'fill="{fill}"{weight}>{escape(content)}</text>'
        )


def nice_ticks(top: float, *, integer: bool = False, exact: bool = False) -> list[float]:
    """Round tick values from 0 to at least ``top`` (four to six steps); ``exact``: the
    last tick is ``top`` itself (a scale's end, such as 5 on a 1-5 scale)."""
    top = top if top > 0 else 1.0
    magnitude = 10 ** math.floor(math.log10(top / 4))
    steps = [m * magnitude for m in (0.5, 1, 2, 2.5, 5, 10)]
    if integer:
        steps = [s for s in steps if s >= 1 and s == int(s)] or [1.0]
    if exact:
        whole = [s for s in steps if abs(top / s - round(top / s)) < 1e-9 and top / s <= 6]
        steps = whole or steps
    step = next((s for s in steps if top / s <= 6), steps[-1])
    count = math.ceil(top / step - 1e-9)
    return [round(step * i, 6) for i in range(count + 1)]


def _tick_text(value: float) -> str:
    return f"{value:g}"


def _x_labels(labels: list[str], step: float) -> tuple[int, list[list[str]]]:
    """Every ``k``-th label, wrapped to fit ``k`` slots: the smallest ``k`` whose labels
    fit in three lines without clipping (or, failing all, clipped ones)."""
    n = max(len(labels), 1)
    for every in range(1, n + 1):
        width = every * step - 6
        lines = [wrap(label, width, TICK_SIZE) for label in labels]
        fits = all(
            len(ls) <= 3 and " ".join(ls) == " ".join(labels[i].split())
            for i, ls in enumerate(lines)
            if i % every == 0
        )
        if fits:
            return every, lines
    return n, [wrap(label, n * step - 6, TICK_SIZE)[:3] for label in labels]


def render(chart: Chart) -> str:
    """The chart as an SVG element with ``role="img"`` and the title as its name."""
    canvas = _Canvas()
    inner = WIDTH - 2 * PAD
    y = PAD
    for line in wrap(chart.title, inner, TITLE_SIZE, bold=True):
        y += TITLE_SIZE + 4
        canvas.text(PAD, y, line, TITLE_SIZE, bold=True)
    y += 8
    for line in wrap(chart.y_name, inner, NAME_SIZE):
        y += NAME_SIZE + 3
        canvas.text(PAD, y, line, NAME_SIZE, fill=MUTED)

    values = [v for s in chart.series for v in s.values if v is not None]
    highest = max([chart.top or 0.0, *values], default=0.0)
    exact = chart.top is not None and highest <= chart.top
    ticks = nice_ticks(highest, integer=chart.integer_ticks, exact=exact)
    top = ticks[-1]
    tick_width = max(text_width(_tick_text(t), TICK_SIZE) for t in ticks)
    left = PAD + tick_width + 6
    right = WIDTH - PAD
    plot_top = y + 10 + TICK_SIZE / 2
    plot_bottom = plot_top + PLOT_HEIGHT
    plot_w = right - left

    def y_of(value: float) -> float:
        return plot_bottom - PLOT_HEIGHT * value / top

    for tick in ticks:
        ty = y_of(tick)
        canvas.parts.append(
            f'<line x1="{left:.1f}" y1="{ty:.1f}" x2="{right:.1f}" y2="{ty:.1f}" '
            f'stroke="{GRID if tick else MUTED}"/>'
        )
        canvas.text(left - 6, ty + TICK_SIZE * 0.35, _tick_text(tick), TICK_SIZE,
                    anchor="end", fill=MUTED)  # fmt: skip

    n = max(len(chart.labels), 1)
    step = plot_w / n
    if chart.kind == "line":
        _draw_lines(canvas, chart, left, step, y_of)
    else:
        _draw_bars(canvas, chart, left, step, y_of, plot_bottom)

    every, label_lines = _x_labels(chart.labels, step)
    label_top = plot_bottom + 4
    deepest = 0
    for i, lines in enumerate(label_lines):
        if i % every:
            continue
        x = left + step * (i + 0.5)
        # A label spanning several slots is centred on its own slot but must stay inside.
        half = max(text_width(line, TICK_SIZE) for line in lines) / 2
        x = min(max(x, left + half), right - half)
        for j, line in enumerate(lines):
            canvas.text(x, label_top + (j + 1) * (TICK_SIZE + 4), line, TICK_SIZE,
                        anchor="middle", fill=MUTED)  # fmt: skip
        deepest = max(deepest, len(lines))
    y = label_top + deepest * (TICK_SIZE + 4) + 6
    for line in wrap(chart.x_name, inner, NAME_SIZE):
        y += NAME_SIZE + 3
        canvas.text(left + plot_w / 2, y, line, NAME_SIZE, anchor="middle", fill=MUTED)
    y = _legend(canvas, chart, y + 10, inner)
    height = math.ceil(y + PAD)
    title = escape(chart.title)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" class="chart" aria-label="{title}" '
        f'font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif">'
        f"<title>{title}</title>" + "".join(canvas.parts) + "</svg>"
    )


def _marker(index: int, x: float, y: float) -> str:
    """A circle for the first series, a square for the second: not told by colour alone."""
    colour = COLOURS[index % len(COLOURS)]
    if index % 2 == 0:
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>'
    return f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7" fill="{colour}"/>'


def _line_style(index: int) -> str:
    dash = DASHES[index % len(DASHES)]
    style = f'stroke="{COLOURS[index % len(COLOURS)]}" stroke-width="2.5"'
    return style + (f' stroke-dasharray="{dash}"' if dash else "")


def _draw_lines(canvas: _Canvas, chart: Chart, left: float, step: float, y_of) -> None:  # type: ignore[no-untyped-def]
    for i, s in enumerate(chart.series):
        points = [
            (left + step * (j + 0.5), y_of(v)) for j, v in enumerate(s.values) if v is not None
        ]
        if not points:
            continue
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        canvas.parts.append(f'<polyline points="{path}" fill="none" {_line_style(i)}/>')
        canvas.parts.extend(_marker(i, x, y) for x, y in points)


def _draw_bars(  # type: ignore[no-untyped-def]
    canvas: _Canvas, chart: Chart, left: float, step: float, y_of, bottom: float
) -> None:
    n_series = max(len(chart.series), 1)
    width = step * 0.7 / n_series
    for i, s in enumerate(chart.series):
        colour = COLOURS[i % len(COLOURS)]
        for j, v in enumerate(s.values):
            if v is None:
                continue
            x = left + step * j + step * 0.15 + width * i
            top = y_of(v)
            label = f"{s.name}, {chart.labels[j]}: {chart.value_text(v)}"
            canvas.parts.append(
                f'<rect x="{x:.1f}" y="{top:.1f}" width="{width:.1f}" height="{bottom - top:.1f}" '
                f'fill="{colour}"><title>{escape(label)}</title></rect>'
            )
            text = chart.value_text(v)
            if text_width(text, VALUE_SIZE) <= width:
                canvas.text(x + width / 2, top - 3, text, VALUE_SIZE, anchor="middle")


def _legend(canvas: _Canvas, chart: Chart, y: float, inner: float) -> float:
    """Legend items left to right, on as many rows as they need; returns the bottom."""
    key_width, gap = 28, 18
    x, row_height = PAD, NAME_SIZE + 6
    y += row_height
    for i, s in enumerate(chart.series):
        lines = wrap(s.name, inner - key_width, NAME_SIZE)
        width = key_width + max(text_width(line, NAME_SIZE) for line in lines)
        if x > PAD and x + width > PAD + inner:
            x, y = PAD, y + row_height
        mid = y - NAME_SIZE * 0.35
        if chart.kind == "line":
            canvas.parts.append(
                f'<line x1="{x:.1f}" y1="{mid:.1f}" x2="{x + 22:.1f}" y2="{mid:.1f}" '
                f"{_line_style(i)}/>"
            )
            canvas.parts.append(_marker(i, x + 11, mid))
        else:
            colour = COLOURS[i % len(COLOURS)]
            canvas.parts.append(
                f'<rect x="{x + 5:.1f}" y="{mid - 6:.1f}" width="12" height="12" fill="{colour}"/>'
            )
        for j, line in enumerate(lines):
            canvas.text(x + key_width, y + j * row_height, line, NAME_SIZE)
        y += (len(lines) - 1) * row_height
        x += width + gap
    return y + NAME_SIZE * 0.3
