"""The same batch on a Dask distributed cluster (issue 11 item 5): `--dask-local N` starts
a local cluster of N worker processes (one thread each, on 127.0.0.1, no dashboard);
`--scheduler tcp://HOST:PORT` uses a cluster that is already running.

Every record goes through the same function as on the local pool
(cmlkb.batch.work.process_record), which keeps the knowledge loaded in the worker process
after its first use. Before the batch, every worker loads the knowledge from the parent's
root and reports its resolved root and digest; the batch refuses to run if any differs
from the parent's (a worker that joins later is still checked on its first record), or
if a worker runs more than one thread (durable-rules and pyoxigraph's query objects are
used from one thread per process). The
parent keeps the window of records in flight and writes the answers in input order, as
with the local pool. Dask is an optional dependency (`pip install 'cmlkb[dask]'`), only
imported here and only when one of the two options is used.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from cmlkb.batch.work import RecordTask, WorkerConfig, knowledge_identity, process_record
from cmlkb.errors import CmlkbError, InvalidInput

__all__ = ["DaskExecutor", "check_workers", "dask_cluster"]

CONNECT_TIMEOUT = 30.0  # seconds to reach a scheduler and see a first worker
# Dask's sampling profiler holds the frames of running tasks from the worker's event loop
# thread; a pyoxigraph query object in such a frame is then let go in that thread, which
# pyoxigraph refuses (it is bound to the thread that made it) with a traceback on the
# worker's stderr. The workers of --dask-local run without it; start the workers of an
# existing cluster with DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False.
NO_PROFILER = {"distributed.worker.profile.enabled": False}


def _dask() -> tuple[Any, Any]:
    """The dask and distributed modules (an optional dependency, imported only here)."""
    try:
        import dask
        import distributed
    except ImportError:
        raise InvalidInput(
            "--scheduler and --dask-local need Dask: install cmlkb with its dask extra "
            "(pip install 'cmlkb[dask]')"
        ) from None
    return dask, distributed


class DaskExecutor:
    """Records submitted to a Dask client, one task per record."""

    def __init__(self, client: Any, config: WorkerConfig) -> None:
        self.client = client
        self.config = config
        threads = client.nthreads()
        self._capacity = max(1, sum(threads.values()))

    @property
    def capacity(self) -> int:
        return self._capacity

    def submit(self, task: RecordTask) -> Any:
        return self.client.submit(
            process_record,
            self.config,
            task,
            key=f"cmlkb-record-{task.evaluation_id}",
            pure=False,
        )


def check_workers(client: Any, config: WorkerConfig) -> dict[str, dict[str, str]]:
    """Every worker's knowledge (resolved root, version, digest), loaded from the parent's
    root by a task pinned to that worker (so the knowledge is created in the thread that
    runs the records: pyoxigraph's query objects belong to the thread that made them).
    CmlkbError naming each worker that has another root or digest, cannot load the
    knowledge, or runs more than one thread."""
    expected_root = str(Path(config.knowledge_root).resolve())
    threads = client.nthreads()
    if not threads:
        raise CmlkbError("the Dask cluster has no workers")
    problems = [
        f"{address} runs {n} threads (start Dask workers with --nthreads 1: the rule engine "
        "and the RDF store are used from one thread per process)"
        for address, n in sorted(threads.items())
        if n != 1
    ]
    futures = {
        address: client.submit(
            knowledge_identity,
            config.knowledge_root,
            workers=[address],
            allow_other_workers=False,
            pure=False,
            key=f"cmlkb-knowledge-{uuid.uuid4().hex}",
        )
        for address in sorted(threads)
    }
    found: dict[str, dict[str, str]] = {}
    for address, future in futures.items():
        try:
            identity = future.result(timeout=CONNECT_TIMEOUT * 4)
        except Exception as exc:
            problems.append(
                f"{address} cannot load the knowledge at {config.knowledge_root} "
                f"({type(exc).__name__}: {exc})"
            )
            continue
        found[address] = identity
        if identity["root"] != expected_root or identity["digest"] != config.knowledge_digest:
            problems.append(
                f"{address} has knowledge {identity['digest']} at {identity['root']}, not "
                f"{config.knowledge_digest} at {expected_root}"
            )
    if problems:
        raise CmlkbError(
            "the Dask workers must have the batch's knowledge; refusing to run: "
            + "; ".join(problems)
        )
    return found


@contextmanager
def dask_cluster(
    config: WorkerConfig, scheduler: str | None = None, local_workers: int | None = None
) -> Iterator[DaskExecutor]:
    """A Dask executor on a new local cluster (`local_workers`) or on the cluster whose
    scheduler is at `scheduler`; the workers' knowledge is checked first."""
    dask, distributed = _dask()
    with ExitStack() as stack:
        if local_workers is not None:
            stack.enter_context(dask.config.set(NO_PROFILER))
            cluster = stack.enter_context(
                distributed.LocalCluster(
                    n_workers=local_workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
            )
            client = stack.enter_context(distributed.Client(cluster, set_as_default=False))
        else:
            try:
                client = stack.enter_context(
                    distributed.Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
                )
            except (OSError, TimeoutError) as exc:
                raise CmlkbError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from exc
            try:
                client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
            except TimeoutError as exc:
                raise CmlkbError(
                    f"the Dask scheduler at {scheduler} has no workers "
                    f"(waited {CONNECT_TIMEOUT:.0f} s)"
                ) from exc
        check_workers(client, config)
        yield DaskExecutor(client, config)
