"""Per-key rate limiting: a token bucket for each key (writes per API key, in one process).

Each key may burst up to ``per_minute`` requests and then gets ``per_minute`` a minute; a
refused request learns how long until the next token (for ``Retry-After``). Buckets of keys
idle long enough to be full again are dropped, so memory stays bounded.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["RateLimiter"]


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """``allow(key)`` returns 0 when a request may go, else the seconds to wait.

    Examples
    --------
    >>> now = [0.0]
    >>> limiter = RateLimiter(per_minute=2, clock=lambda: now[0])
    >>> limiter.allow("k"), limiter.allow("k"), limiter.allow("k")
    (0.0, 0.0, 30.0)
    >>> now[0] = 30.0
    >>> limiter.allow("k")
    0.0
    """

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute < 1:
            raise ValueError(f"per_minute must be at least 1, got: {per_minute}")
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0  # tokens per second
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> float:
        """Take a token for ``key``: 0.0 if there was one, else seconds until there is."""
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(self.capacity, now)
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                self._forget_full(now)
                return 0.0
            return float(math.ceil((1.0 - bucket.tokens) / self.rate))

    def _forget_full(self, now: float) -> None:
        if len(self._buckets) < 10_000:
            return
        full_after = self.capacity / self.rate
        self._buckets = {k: b for k, b in self._buckets.items() if now - b.at < full_after}
