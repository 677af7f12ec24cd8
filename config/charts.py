"""Server-rendered SVG charts: no chart library, no CDN, nothing to run in the browser."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LineChart:
    points: str  # for <polyline points="...">
    width: int
    height: int
    low: float
    high: float


def line_chart(
    values: list[float], *, width: int = 600, height: int = 120, pad: int = 6
) -> LineChart | None:
    """Scale `values` (oldest first) into an SVG polyline; None with fewer than two."""
    if len(values) < 2:
        return None
    low, high = min(values), max(values)
    span = (high - low) or 1
    step = (width - 2 * pad) / (len(values) - 1)
    points = " ".join(
        f"{pad + index * step:.1f},{height - pad - (value - low) / span * (height - 2 * pad):.1f}"
        for index, value in enumerate(values)
    )
    return LineChart(points=points, width=width, height=height, low=low, high=high)
