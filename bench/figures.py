"""What the benchmarks share: how a figure is computed from measurements."""

from __future__ import annotations


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile by nearest rank (q in 0..100)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]
