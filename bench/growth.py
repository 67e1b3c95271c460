"""Is a cost linear in the size? Pure arithmetic over measured (size, seconds) points."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

TOLERANCE = 0.3  # each interval's marginal cost within ±30% of the fitted slope


@dataclass(frozen=True)
class Growth:
    """Size and time ratios between consecutive points, marginal cost per unit of each interval,
    the least-squares line (seconds = intercept + slope * size) and its R²."""

    sizes: tuple[int, ...]
    seconds: tuple[float, ...]
    size_ratios: tuple[float, ...]
    time_ratios: tuple[float, ...]
    marginal: tuple[float, ...]
    slope: float
    intercept: float
    r2: float

    @property
    def linear(self) -> bool:
        """Every interval costs about the same per unit (fixed costs allowed: a + b*n is linear)."""
        return self.slope > 0 and all(abs(m - self.slope) <= TOLERANCE * self.slope for m in self.marginal)

    def summary(self, unit: str = "domain", seconds: str = "s", millis: str = "ms") -> str:
        """Each step's ratios and marginal cost, then the fit; `seconds`/`millis` name the quantity
        (CPU-s and CPU-ms for CPU time)."""
        steps = ", ".join(f"{a}->{b}: x{t:.2f} {seconds} for x{s:.1f} size ({m * 1000:.0f} {millis}/{unit} marginal)"
                          for a, b, t, s, m in zip(self.sizes, self.sizes[1:], self.time_ratios, self.size_ratios,
                                                   self.marginal, strict=False))
        return (f"{steps}; fit {self.intercept:.2f} {seconds} + {self.slope * 1000:.1f} {millis}/{unit}, "
                f"R²={self.r2:.3f}")


def growth(points: Sequence[tuple[int, float]]) -> Growth:
    """Growth of `points` (size, seconds), sorted by size; at least two distinct sizes."""
    ordered = sorted(points)
    sizes = tuple(size for size, _ in ordered)
    seconds = tuple(float(value) for _, value in ordered)
    if len(set(sizes)) < 2:
        raise ValueError("growth needs at least two distinct sizes")
    pairs = list(itertools.pairwise(ordered))
    size_ratios = tuple(b[0] / a[0] for a, b in pairs)
    time_ratios = tuple(b[1] / a[1] if a[1] else float("inf") for a, b in pairs)
    marginal = tuple((b[1] - a[1]) / (b[0] - a[0]) for a, b in pairs)
    n = len(ordered)
    mean_x, mean_y = sum(sizes) / n, sum(seconds) / n
    sxx = sum((x - mean_x) ** 2 for x in sizes)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in ordered)
    slope = sxy / sxx
    intercept = mean_y - slope * mean_x
    total = sum((y - mean_y) ** 2 for y in seconds)
    residual = sum((y - intercept - slope * x) ** 2 for x, y in ordered)
    r2 = 1.0 - residual / total if total else 1.0
    return Growth(sizes, seconds, size_ratios, time_ratios, marginal, slope, intercept, r2)
