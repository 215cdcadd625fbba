"""Small helpers of ``window_startup.py``: its log line and its percentiles."""

from __future__ import annotations

import statistics
import sys
import time


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, round(p / 100.0 * len(s) + 0.5) - 1))
    return s[k]


def dist(values: list[float]) -> dict[str, float]:
    """p50/p95/max/mean of milliseconds, rounded."""
    if not values:
        return {"n": 0}
    return {"n": len(values), "p50": round(pct(values, 50), 2), "p95": round(pct(values, 95), 2),
            "max": round(max(values), 2), "mean": round(statistics.fmean(values), 2)}
