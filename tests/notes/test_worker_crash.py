"""A worker killed with SIGKILL mid-transcription: another worker finishes the job; one transcript, nothing lost."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
import wave
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from core.settings import Settings
from notes.bootstrap import Services
from notes.encounters.models import Encounter
from notes.transcripts.models import Transcript, TranscriptSegment
from tests.api import queries
from tests.api.helpers import create_encounter, create_patient
from tests.conftest import Api
from tests.support.speech import VISIT, synthesize_clip

LEE = "dr.lee@demo.test"


def _worker(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    assert settings.database_url is not None
    env = os.environ | {
        "AMBIENT_DATABASE_URL": settings.database_url.get_secret_value(),
        "AMBIENT_HOME": str(settings.home),
        "AMBIENT_WORKER__HEARTBEAT_S": "1",
        "AMBIENT_WORKER__STALLED_AFTER_S": "4",
        "AMBIENT_LOG_LEVEL": "INFO",
    }
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "api.cli", "worker"], env=env, stdout=out, stderr=out)


async def _transcript_status(services: Services, encounter_id: uuid.UUID) -> str | None:
    async with services.database.session() as session:
        status: str | None = await session.scalar(
            select(Transcript.status).where(Transcript.encounter_id == encounter_id)
        )
    return status


async def _wait_for(services: Services, encounter_id: uuid.UUID, wanted: set[str], timeout: float, log: Path) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = await _transcript_status(services, encounter_id)
        if status in wanted:
            return status
        await asyncio.sleep(0.25)
    pytest.fail(f"transcript never reached {wanted}; worker log:\n{log.read_text()[-3000:]}")


async def test_a_killed_worker_loses_nothing(api: Api, services: Services, settings: Settings, tmp_path: Path) -> None:
    # Three rounds of the visit (~2.5 min): long enough to kill the worker while it transcribes.
    clip = synthesize_clip(VISIT * 3, tmp_path / "long.wav")
    with wave.open(str(clip.path)) as reader:
        frames = reader.getnframes()
    patient = await create_patient(api, as_=LEE)
    encounter_id = uuid.UUID((await create_encounter(api, patient["id"], as_=LEE))["id"])
    response = await api.upload(
        queries.RECORDING_UPLOAD,
        {"input": {"encounterId": str(encounter_id), "file": None}},
        "input.file",
        clip.path.read_bytes(),
        as_=LEE,
    )
    assert response.json()["data"]["recordingUpload"]["errors"] == []

    log = tmp_path / "workers.log"
    first = _worker(settings, log)
    try:
        await _wait_for(services, encounter_id, {"RUNNING"}, 120, log)
        await asyncio.sleep(1.0)  # well inside the model's work
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        assert await _transcript_status(services, encounter_id) == "RUNNING"  # the job died with it
    finally:
        if first.poll() is None:
            first.kill()

    second = _worker(settings, log)
    try:
        assert await _wait_for(services, encounter_id, {"DONE", "FAILED"}, 240, log) == "DONE"
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(timeout=30)
        except subprocess.TimeoutExpired:
            second.kill()

    async with services.database.session() as session:
        transcripts = await session.scalar(select(func.count()).select_from(Transcript))
        indices = (await session.scalars(select(TranscriptSegment.index).order_by(TranscriptSegment.index))).all()
        ends = (await session.scalars(select(TranscriptSegment.end_ms))).all()
        status = await session.scalar(select(Encounter.status).where(Encounter.id == encounter_id))
    assert transcripts == 1
    assert list(indices) == list(range(len(indices))) and len(indices) > 20
    assert max(ends) > 0.8 * frames / 16  # the whole recording, not just what the first worker saw
    assert status in ("TRANSCRIBED", "EXTRACTING", "EXTRACTED", "DRAFTING", "DRAFTED")
    assert np.all(np.diff(indices) == 1)
