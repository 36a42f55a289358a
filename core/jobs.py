"""The job queue (procrastinate on our PostgreSQL) and enqueueing inside one of our transactions.

Jobs carry ids only, never patient data. Enqueueing goes through the queue's own SQL function in the
caller's transaction, so a job exists exactly when the change that needs it commits.
"""

from __future__ import annotations

import json
from typing import Any

import procrastinate
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import libpq_url

QUEUES = ("transcription", "nlp", "drafting")


def create_job_app(database_url: str, *, import_paths: list[str]) -> procrastinate.App:
    connector = procrastinate.PsycopgConnector(
        conninfo=libpq_url(database_url), kwargs={"application_name": "ambient-jobs"}
    )
    return procrastinate.App(connector=connector, import_paths=import_paths)


async def enqueue(
    session: AsyncSession,
    task_name: str,
    *,
    queue: str,
    args: dict[str, Any],
    lock: str | None = None,
    queueing_lock: str | None = None,
) -> bool:
    """Defer a job in the caller's transaction. With a `queueing_lock`, a job already waiting under the
    same lock makes this a no-op (returns False): that job will see our change when it runs."""
    statement = text(
        "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, :lock, :queueing_lock,"
        " CAST(:args AS jsonb), NULL)::procrastinate_job_to_defer_v1])"
    )
    params = {"queue": queue, "task": task_name, "lock": lock, "queueing_lock": queueing_lock, "args": json.dumps(args)}
    if queueing_lock is None:
        await session.execute(statement, params)
        return True
    try:
        async with session.begin_nested():
            await session.execute(statement, params)
    except IntegrityError:
        return False
    return True
