"""The one way every benchmark times calls and summarises latencies."""

import math
import time
from collections.abc import Callable


def time_calls(call: Callable[[int], object], calls: int, warmup_calls: int) -> list[float]:
    """Milliseconds of each of `calls` timed calls of call(i), after warmup_calls untimed ones."""
    for index in range(warmup_calls):
        call(index)
    times = []
    for index in range(calls):
        started = time.perf_counter()
        call(index)
        times.append(1000 * (time.perf_counter() - started))
    return times


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile: a value that was really measured, never an interpolation between two."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def latency_summary(times_ms: list[float]) -> dict:
    """p50, p99, max and mean of a list of milliseconds (with fewer than 100 calls, p99 is about the max: report the max)."""
    return {
        "p50": round(percentile(times_ms, 0.50), 3),
        "p99": round(percentile(times_ms, 0.99), 3),
        "max": round(max(times_ms), 3),
        "mean": round(sum(times_ms) / len(times_ms), 3),
        "calls": len(times_ms),
    }
