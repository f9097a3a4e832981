"""Partitions on a Dask cluster: every core of this machine (a ``LocalCluster``), or a cluster
of many (``scheduler="tcp://HOST:8786"``).

Each worker process loads the analyzer once (on its first partition) and reads its files
itself, so the files must be at the same path on every worker (a shared or copied folder).
Results come back to this process, which checkpoints them: the run's folder need not be
shared. Detection then runs here over the merged results, as with the single engine, so both
give the same files.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from typing import Any

from detector.analysis.partition import Partition, PartitionOptions, PartitionResult, run_partition
from detector.errors import ConfigError

__all__ = ["DaskEngine"]

log = logging.getLogger(__name__)


class DaskEngine:
    """Runs partitions as Dask tasks, one per file, as many at once as there are workers.

    Parameters
    ----------
    scheduler
        Address of a running scheduler; None starts a ``LocalCluster`` for the run.
    workers
        The ``LocalCluster``'s worker processes (one thread each); None: one per core.
    """

    def __init__(self, *, scheduler: str | None = None, workers: int | None = None) -> None:
        if scheduler is not None and workers is not None:
            raise ConfigError("--workers sizes a LocalCluster: not with --scheduler")
        self.scheduler = scheduler
        self.workers = workers

    def run(
        self,
        partitions: Sequence[Partition],
        options: PartitionOptions,
        done: Callable[[Partition, PartitionResult], None],
        records: Callable[[int], None],
    ) -> None:
        """Submit every partition and hand each result to ``done`` as it arrives."""
        if not partitions:
            return
        try:
            from distributed import Client, LocalCluster, as_completed
        except ImportError:  # an optional extra
            raise ConfigError(
                "--engine dask needs Dask: pip install 'outage-radar[dask]'"
            ) from None
        cluster: Any = None
        if self.scheduler is None:
            cluster = LocalCluster(
                n_workers=self.workers or os.cpu_count() or 1,
                threads_per_worker=1,  # annotation holds the GIL: processes, not threads
                processes=True,
                dashboard_address=None,
            )
        try:
            with Client(cluster or self.scheduler) as client:
                by_index = {p.index: p for p in partitions}
                # pure=False: a file may change between runs under the same arguments.
                futures = client.map(_run, partitions, options=options, pure=False)
                for future, result in as_completed(futures, with_results=True):
                    records(result.posts + result.skipped.total() + result.quarantined.total())
                    done(by_index[result.index], result)
                    future.release()
        finally:
            if cluster is not None:
                cluster.close()


def _run(partition: Partition, options: PartitionOptions) -> PartitionResult:
    """A partition on a worker, with the worker's own analyzer."""
    return run_partition(partition, options)
