"""Small SVG charts drawn on the server: no JavaScript, no external CDN.

Colours follow the stylesheet; each chart carries a <title> and <desc> so screen readers
get the figures too.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 560, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 28, 36
COLOURS = ("#0b7a75", "#9aa5b1")


@dataclass(frozen=True)
class Series:
    """One line or set of bars: a name and one value per label (``None`` for no data)."""

    name: str
    values: list[float | None]


def _scale(series: list[Series]) -> float:
    top = max((v for s in series for v in s.values if v is not None), default=0.0)
    return top if top > 0 else 1.0


def _frame(title: str, labels: list[str], series: list[Series], top: float, body: list[str]) -> str:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" class="chart" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        "<desc>"
        + escape(
            "; ".join(
                f"{s.name}: "
                + ", ".join(
                    f"{lab} {'-' if v is None else round(v, 2)}"
                    for lab, v in zip(labels, s.values, strict=False)
                )
                for s in series
            )
        )
        + "</desc>",
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" '
        'stroke="#d9e2ec"/>',
    ]
    for fraction in (0.5, 1.0):
        y = TOP + plot_h * (1 - fraction)
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}" stroke="#eef2f7"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#616e7c">'
            f"{round(top * fraction, 1):g}</text>"
        )
    step = plot_w / max(len(labels), 1)
    for i, label in enumerate(labels):
        x = LEFT + step * (i + 0.5)
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" font-size="11" '
            f'fill="#616e7c">{escape(label)}</text>'
        )
    parts.extend(body)
    for i, s in enumerate(series):
        x = LEFT + 8 + i * 180
        parts.append(f'<rect x="{x}" y="8" width="10" height="10" fill="{COLOURS[i % 2]}"/>')
        parts.append(
            f'<text x="{x + 14}" y="17" font-size="12" fill="#1f2933">{escape(s.name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def line_chart(title: str, labels: list[str], series: list[Series]) -> str:
    """A line per series over ``labels`` (gaps where a value is ``None``)."""
    top = _scale(series)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(labels), 1)
    body = []
    for i, s in enumerate(series):
        points = [
            (LEFT + step * (j + 0.5), TOP + plot_h * (1 - v / top))
            for j, v in enumerate(s.values)
            if v is not None
        ]
        if points:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            body.append(
                f'<polyline points="{path}" fill="none" stroke="{COLOURS[i % 2]}" '
                'stroke-width="2.5"' + (' stroke-dasharray="6 4"' if i else "") + "/>"
            )
            body.extend(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{COLOURS[i % 2]}"/>'
                for x, y in points
            )
    return _frame(title, labels, series, top, body)


def bar_chart(title: str, labels: list[str], series: list[Series], top: float | None = None) -> str:
    """Grouped bars, one group per label."""
    top = top or _scale(series)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(labels), 1)
    width = step * 0.7 / max(len(series), 1)
    body = []
    for i, s in enumerate(series):
        for j, v in enumerate(s.values):
            if v is None:
                continue
            h = plot_h * v / top
            x = LEFT + step * j + step * 0.15 + width * i
            body.append(
                f'<rect x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{width:.1f}" '
                f'height="{h:.1f}" fill="{COLOURS[i % 2]}">'
                f"<title>{escape(s.name)}, {escape(labels[j])}: {v:.2f}</title></rect>"
            )
    return _frame(title, labels, series, top, body)
