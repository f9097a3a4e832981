"""A sink for source tests: it keeps the batches it is given, and can be made to hold them up."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from detector.ingest.live.base import Batch
from detector.models import Post


class ListSink:
    """Collects batches; ``capacity`` batches at most until ``drain`` (backpressure tests)."""

    def __init__(self, capacity: int | None = None) -> None:
        self.batches: list[Batch] = []
        self.capacity = capacity
        self._taken = 0
        self._changed = threading.Condition()

    def put(self, batch: Batch, stop: threading.Event) -> bool:
        """Keep ``batch``, waiting while ``capacity`` batches are held; False when stopped."""
        with self._changed:
            while self.capacity is not None and len(self.batches) - self._taken >= self.capacity:
                if stop.is_set():
                    return False
                self._changed.wait(0.05)
            if stop.is_set():
                return False
            self.batches.append(batch)
            self._changed.notify_all()
            return True

    def drain(self) -> None:
        """Take every held batch, making room for more."""
        with self._changed:
            self._taken = len(self.batches)
            self._changed.notify_all()

    @property
    def posts(self) -> list[Post]:
        """Every post handed over, in order."""
        with self._changed:
            return [post for batch in self.batches for post in batch.posts]

    def wait_for_posts(self, count: int, timeout: float = 10.0) -> list[Post]:
        """Wait until ``count`` posts arrived (or ``timeout``); return the posts so far."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while sum(len(b.posts) for b in self.batches) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._changed.wait(min(left, 0.05))
        return self.posts


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` seconds pass; return whether it held."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)
    return True
