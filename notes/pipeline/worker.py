"""Running pipeline workers: `ambient worker` (any number, any machine) or one inside `ambient serve`.

Besides procrastinate's own loop, each worker sweeps for stalled jobs: a job whose worker stopped
heart-beating (killed, machine lost) is put back in the queue and picked up by a live worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import procrastinate

from core.jobs import QUEUES, create_job_app
from core.settings import WorkerSettings
from notes.bootstrap import Services
from notes.pipeline.runtime import PipelineRuntime
from notes.pipeline.tasks import blueprint

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerOptions:
    concurrency: int = 1
    heartbeat_s: float = 5.0
    stalled_after_s: float = 20.0  # no heartbeat for this long: the worker is gone
    sweep_every_s: float = 5.0
    queues: tuple[str, ...] = QUEUES

    @classmethod
    def from_settings(cls, settings: WorkerSettings, concurrency: int | None = None) -> WorkerOptions:
        return cls(
            concurrency=concurrency or settings.concurrency,
            heartbeat_s=settings.heartbeat_s,
            stalled_after_s=settings.stalled_after_s,
            sweep_every_s=min(5.0, settings.stalled_after_s / 2),
        )


def job_app(database_url: str) -> procrastinate.App:
    app = create_job_app(database_url, import_paths=[])
    app.add_tasks_from(blueprint, namespace="")
    return app


async def retry_stalled_jobs(app: procrastinate.App, stalled_after_s: float) -> int:
    stalled = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after_s)
    count = 0
    for job in stalled:
        log.warning("job %s (%s) stalled: its worker stopped; queueing it again", job.id, job.task_name)
        await app.job_manager.retry_job(job)
        count += 1
    return count


async def _sweep(app: procrastinate.App, options: WorkerOptions) -> None:
    while True:
        try:
            await retry_stalled_jobs(app, options.stalled_after_s)
        except Exception as exc:  # the sweep must outlive a database hiccup
            log.warning("stalled-job sweep failed: %s", type(exc).__name__)
        await asyncio.sleep(options.sweep_every_s)


async def run_worker(
    services: Services,
    database_url: str,
    options: WorkerOptions,
    *,
    wait: bool = True,
    install_signal_handlers: bool = False,
    runtime: PipelineRuntime | None = None,
    warm_drafter: bool = False,
) -> None:
    """Process jobs until cancelled (wait=True) or until the queues are empty (wait=False).

    `warm_drafter`: start the drafter (the local llama-server) now, beside the jobs, so the log says at once
    which model and build will write notes, or why none will."""
    owns_runtime = runtime is None
    runtime = runtime or PipelineRuntime(services)
    app = job_app(database_url)
    async with app.open_async():
        sweeper = asyncio.create_task(_sweep(app, options), name="stalled-job-sweeper")
        warming = asyncio.create_task(runtime.drafter(), name="drafter-warm-up") if warm_drafter else None
        try:
            await app.run_worker_async(
                queues=list(options.queues),
                concurrency=options.concurrency,
                wait=wait,
                install_signal_handlers=install_signal_handlers,
                update_heartbeat_interval=options.heartbeat_s,
                stalled_worker_timeout=options.stalled_after_s,
                additional_context={"runtime": runtime},
                listen_notify=True,
                delete_jobs="successful",
            )
        finally:
            for task in (sweeper, warming):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
            if owns_runtime:
                await runtime.aclose()


@contextlib.asynccontextmanager
async def background_worker(services: Services, database_url: str, options: WorkerOptions) -> AsyncIterator[None]:
    """A worker inside another process (the quickstart's `ambient serve`), stopped with it."""
    task = asyncio.create_task(run_worker(services, database_url, options, warm_drafter=True), name="pipeline-worker")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
