"""Server-side SVG charts: no JavaScript, no build step; every label is escaped.

`line_chart` draws one line per series over shared categories (months), with gaps where a
series has no value, a y axis with round ticks and a legend.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

PALETTE = ("#b91c1c", "#ea580c", "#ca8a04", "#2563eb", "#64748b", "#7c3aed")


@dataclass(frozen=True, kw_only=True)
class Frame:
    """The drawing area inside the SVG, in pixels."""

    width: int = 720
    height: int = 300
    left: int = 56
    right: int = 150
    top: int = 16
    bottom: int = 40

    @property
    def plot_width(self) -> int:
        """Width of the plotting area."""
        return self.width - self.left - self.right

    @property
    def plot_height(self) -> int:
        """Height of the plotting area."""
        return self.height - self.top - self.bottom


def nice_max(value: float) -> float:
    """A round upper bound for an axis (1, 2, 5 × a power of ten) at or above `value`."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return float(next(step * power for step in (1, 2, 5, 10) if step * power >= value))


def _x(frame: Frame, index: int, count: int) -> float:
    if count <= 1:
        return frame.left + frame.plot_width / 2
    return frame.left + frame.plot_width * index / (count - 1)


def _y(frame: Frame, value: float, top: float) -> float:
    return frame.top + frame.plot_height * (1 - value / top)


def _axes(frame: Frame, categories: Sequence[str], top: float, y_label: str) -> list[str]:
    parts = []
    for step in range(5):
        value = top * step / 4
        y = _y(frame, value, top)
        parts.append(
            f'<line x1="{frame.left}" y1="{y:.1f}" x2="{frame.left + frame.plot_width}" '
            f'y2="{y:.1f}" class="grid"/>'
            f'<text x="{frame.left - 6}" y="{y + 4:.1f}" text-anchor="end">{value:g}</text>'
        )
    label_every = max(1, math.ceil(len(categories) / 12))
    for index, category in enumerate(categories):
        if index % label_every == 0:
            x = _x(frame, index, len(categories))
            parts.append(
                f'<text x="{x:.1f}" y="{frame.height - frame.bottom + 18}" '
                f'text-anchor="middle">{escape(category)}</text>'
            )
    parts.append(
        f'<text x="14" y="{frame.top + frame.plot_height / 2:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 14 {frame.top + frame.plot_height / 2:.1f})">'
        f"{escape(y_label)}</text>"
    )
    return parts


def _series(
    frame: Frame, *, values: Sequence[float | None], top: float, colour: str, name: str,
    dashed: bool = False,
) -> str:
    count = len(values)
    points = [
        (_x(frame, i, count), _y(frame, v, top)) for i, v in enumerate(values) if v is not None
    ]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"><title>{escape(name)}</title>'
        "</circle>"
        for x, y in points
    )
    dash = ' stroke-dasharray="6 4"' if dashed else ""
    line = f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5"{dash}/>'
    return (line if len(points) > 1 else "") + dots


def _legend(frame: Frame, names: Sequence[str]) -> list[str]:
    x = frame.width - frame.right + 16
    return [
        f'<rect x="{x}" y="{frame.top + 20 * i}" width="12" height="12" '
        f'fill="{PALETTE[i % len(PALETTE)]}"/>'
        f'<text x="{x + 18}" y="{frame.top + 20 * i + 11}">{escape(name)}</text>'
        for i, name in enumerate(names)
    ]


def _targets(
    frame: Frame, targets: Mapping[str, float], names: Sequence[str], top: float
) -> list[str]:
    parts = []
    for name, value in targets.items():
        colour = PALETTE[names.index(name) % len(PALETTE)] if name in names else "#475569"
        y = _y(frame, value, top)
        parts.append(
            f'<line x1="{frame.left}" y1="{y:.1f}" x2="{frame.left + frame.plot_width}" '
            f'y2="{y:.1f}" stroke="{colour}" stroke-width="1.5" stroke-dasharray="2 3" '
            f'class="target"/><text x="{frame.left + frame.plot_width - 4}" y="{y - 4:.1f}" '
            f'text-anchor="end" class="target-label">{escape(name)} target {value:g}</text>'
        )
    return parts


def line_chart(
    *,
    categories: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    y_label: str,
    title: str,
    frame: Frame | None = None,
    targets: Mapping[str, float] | None = None,
    empty: str = "No fixed findings yet",
) -> Markup:
    """An SVG line chart; `series` maps a name to one value (or None) per category.

    `targets` draws a labelled horizontal line per value (e.g. SLA days per severity), in the
    colour of the series of the same name when there is one.
    """
    frame = frame or Frame()
    targets = targets or {}
    values = [v for row in series.values() for v in row if v is not None]
    top = nice_max(max([*values, *targets.values()], default=0.0))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {frame.width} {frame.height}" '
        f'class="chart" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>',
        *_axes(frame, categories, top, y_label),
    ]
    for index, (name, row) in enumerate(series.items()):
        colour = PALETTE[index % len(PALETTE)]
        parts.append(
            _series(frame, values=row, top=top, colour=colour, name=name, dashed=index % 2 == 1)
        )
    parts.extend(_targets(frame, targets, list(series), top))
    parts.extend(_legend(frame, list(series)))
    if not values:
        parts.append(
            f'<text x="{frame.left + frame.plot_width / 2}" y="{frame.top + frame.plot_height / 2}"'
            f' text-anchor="middle" class="empty">{escape(empty)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated label is escaped above
