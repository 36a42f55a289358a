"""Whole-file uploads: the multipart spec, validation, idempotency, limits, CSRF, encryption at rest."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from sqlalchemy import func, select

from notes.bootstrap import Services
from notes.recordings.models import Recording
from tests.api import queries
from tests.api.audio_files import tone_wav
from tests.api.helpers import create_encounter, create_patient
from tests.conftest import Api

LEE = "dr.lee@demo.test"


async def _encounter(api: Api) -> str:
    patient = await create_patient(api, as_=LEE)
    return str((await create_encounter(api, patient["id"], as_=LEE))["id"])


async def _upload(api: Api, encounter_id: str, content: bytes, **kwargs: Any) -> dict[str, Any]:
    key = kwargs.pop("idempotency_key", None)
    response = await api.upload(
        queries.RECORDING_UPLOAD,
        {"input": {"encounterId": encounter_id, "file": None, "idempotencyKey": key}},
        "input.file",
        content,
        as_=kwargs.pop("as_", LEE),
        **kwargs,
    )
    assert response.status_code == 200, response.text
    return dict(response.json()["data"]["recordingUpload"])


async def _stored_objects(services: Services) -> list[Path]:
    root = services.settings.storage.directory or services.settings.home_path("objects")
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


async def _recording_count(services: Services) -> int:
    async with services.database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Recording)) or 0)


def _flac(seconds: float) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="flac") as container:
        stream = container.add_stream("flac", rate=16_000, layout="mono")
        samples = (np.sin(np.arange(int(16_000 * seconds)) / 10) * 8000).astype(np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = 16_000
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()


async def test_stereo_wav_is_measured_and_stored_encrypted(api: Api, services: Services) -> None:
    encounter_id = await _encounter(api)
    audio = tone_wav(1.5, channels=2)
    payload = await _upload(api, encounter_id, audio)
    assert payload["errors"] == []
    recording = payload["recording"]
    assert recording["channels"] == 2
    assert abs(recording["durationSeconds"] - 1.5) < 0.01
    [stored] = await _stored_objects(services)
    sealed = stored.read_bytes()
    assert audio[44:1044] not in sealed, "audio must not be stored in the clear"
    async with services.database.session() as session:
        row = (await session.scalars(select(Recording))).one()
    from core.crypto import WrappedKey

    decrypted = b"".join(
        [
            chunk
            async for chunk in services.store.get(
                row.storage_key, WrappedKey(row.key_id, row.key_nonce, row.wrapped_key)
            )
        ]
    )
    assert decrypted == audio


async def test_compressed_audio_is_accepted_with_its_real_type(api: Api) -> None:
    encounter_id = await _encounter(api)
    payload = await _upload(
        api, encounter_id, _flac(1.0), filename="visit.flac", content_type="application/octet-stream"
    )
    assert payload["errors"] == []
    assert payload["recording"]["contentType"] == "audio/flac"
    assert abs(payload["recording"]["durationSeconds"] - 1.0) < 0.05


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "EMPTY_FILE"),
        (b"this is a text file, not audio at all\n" * 50, "NOT_AUDIO"),
        (b"\x89PNG\r\n\x1a\n" + bytes(2000), "NOT_AUDIO"),
        ("truncated", "CORRUPT_AUDIO"),
    ],
)
async def test_bad_files_get_a_typed_error_and_store_nothing(
    api: Api, services: Services, content: bytes | str, code: str
) -> None:
    if content == "truncated":  # a WAV header that promises far more data than follows
        whole = tone_wav(3.0)
        content = whole[: len(whole) // 3]
        content = content[:4] + (len(whole) - 8).to_bytes(4, "little") + content[8:]
    encounter_id = await _encounter(api)
    payload = await _upload(api, encounter_id, content)  # type: ignore[arg-type]
    assert payload["recording"] is None
    assert [e["code"] for e in payload["errors"]] == [code]
    assert await _recording_count(services) == 0
    assert await _stored_objects(services) == []
    leftovers = list(services.settings.home_path("tmp").glob("*"))
    assert leftovers == [], "plaintext spool files must be removed"


async def test_same_idempotency_key_twice_gives_one_recording(api: Api, services: Services) -> None:
    encounter_id = await _encounter(api)
    audio = tone_wav(1.0)
    first = await _upload(api, encounter_id, audio, idempotency_key="retry-me")
    second = await _upload(api, encounter_id, audio, idempotency_key="retry-me")
    assert first["recording"]["id"] == second["recording"]["id"]
    assert await _recording_count(services) == 1
    assert len(await _stored_objects(services)) == 1


async def test_idempotency_key_reused_for_different_audio_is_refused(api: Api, services: Services) -> None:
    encounter_id = await _encounter(api)
    await _upload(api, encounter_id, tone_wav(1.0), idempotency_key="k")
    payload = await _upload(api, encounter_id, tone_wav(1.2), idempotency_key="k")
    assert [e["code"] for e in payload["errors"]] == ["IDEMPOTENCY_KEY_REUSED"]
    assert await _recording_count(services) == 1


async def test_over_long_audio_is_refused(api: Api, services: Services) -> None:
    encounter_id = await _encounter(api)
    services.settings.api.max_recording_seconds = 1.0
    try:
        payload = await _upload(api, encounter_id, tone_wav(2.0))
    finally:
        services.settings.api.max_recording_seconds = 3 * 3600.0
    assert [e["code"] for e in payload["errors"]] == ["TOO_LONG"]
    assert await _recording_count(services) == 0


async def test_multipart_without_a_preflight_forcing_header_is_rejected(api: Api) -> None:
    encounter_id = await _encounter(api)
    response = await api.upload(
        queries.RECORDING_UPLOAD,
        {"input": {"encounterId": encounter_id, "file": None}},
        "input.file",
        tone_wav(0.2),
        as_=None,
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "CSRF_REJECTED"


async def test_upload_over_the_size_limit_is_refused_before_it_is_read(settings, services: Services) -> None:  # type: ignore[no-untyped-def]
    import httpx

    from api.app import create_app
    from authz.tokens import DevTokens
    from core.secrets import dev_jwt_secret

    small = settings.model_copy(deep=True)
    small.api.max_upload_bytes = 10_000
    app = create_app(small, services)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        api = Api(client, DevTokens(dev_jwt_secret(settings)))
        encounter_id = await _encounter(api)
        response = await api.upload(
            queries.RECORDING_UPLOAD,
            {"input": {"encounterId": encounter_id, "file": None}},
            "input.file",
            tone_wav(60.0),  # ~1.9 MB, far above 10 kB + form overhead
            as_=LEE,
        )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
