"""Transcription overhead: bare faster-whisper vs our pipeline (engine + job queue + encrypted storage + DB).

    python bench/transcription.py                    # one dev-set encounter, 3 alternating rounds
    python bench/transcription.py --record acibench-D2N083 --rounds 5

Both sides decode the same synthesized clip with the same model and settings (tiny.en, int8, one thread,
beam 5, VAD, word timestamps, the same hotword prompt). "Bare" is `WhisperModel.transcribe` on a WAV on
disk. "Ours" is a recording already uploaded (sealed in the object store, job enqueued) taken through the
worker: job pickup, decryption, the engine (with its segment re-cutting), storing segments and events,
committing, and enqueueing the next step. Rounds alternate bare/ours; the last line is the median of the
per-round ratios ours/bare (target <= 1.10). Also printed: word error rate of both against the spoken text.

Speech comes from ../shared/eval/make_audio.sh (espeak-ng + sox); the dev set is ACI-BENCH (CC BY 4.0).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.database import bench_database  # noqa: E402
from core.settings import LlmSettings, Settings  # noqa: E402
from notes.bootstrap import Services, close_services, open_services  # noqa: E402
from transcription.engine import EngineConfig  # noqa: E402
from transcription.wer import word_error_rate  # noqa: E402

EVAL = REPO.parent / "shared" / "eval"


def synthesize(record_id: str, out: Path) -> tuple[Path, str]:
    record = json.loads((EVAL / "encounters" / f"{record_id}.json").read_text())
    source = out / "record.json"
    source.write_text(json.dumps(record))
    subprocess.run(["bash", str(EVAL / "make_audio.sh"), "-o", str(out), str(source)], check=True, capture_output=True)
    wav = out / f"{record_id}.wav"
    reference = " ".join(line.split(": ", 1)[1] for line in (out / f"{record_id}.ref.txt").read_text().splitlines())
    return wav, reference


def bare_round(model: object, wav: Path, prompt: str, config: EngineConfig) -> tuple[float, str]:
    import ctranslate2

    ctranslate2.set_random_seed(config.seed)  # the engine seeds its sampling fallback the same way
    started = time.perf_counter()
    segments, _ = model.transcribe(  # type: ignore[attr-defined]
        str(wav),
        language="en",
        beam_size=config.beam_size,
        vad_filter=True,
        word_timestamps=True,
        condition_on_previous_text=False,
        hotwords=prompt or None,
        temperature=list(config.temperatures),
        compression_ratio_threshold=2.4,  # as the engine: whisper's own "too repetitive" threshold
    )
    text = " ".join(s.text.strip() for s in segments)  # the generator does the work
    return time.perf_counter() - started, text


async def upload(services: Services, wav: Path) -> uuid.UUID:
    """A clinician's whole-file upload, as the API does it (probe, seal, row, job)."""
    from authz.principal import Principal
    from notes.access import Access
    from notes.encounters.service import create_encounter
    from notes.identity.repository import IdentityRepository
    from notes.patients.service import NewPatient, create_patient
    from notes.recordings.service import UploadLimits, upload_recording
    from notes.recordings.spool import read_file

    async with services.database.session() as session:
        identity = IdentityRepository(session)
        lee = await identity.user_by_email("dr.lee@demo.test")
        assert lee is not None
        [(organization, _)] = [m for m in await identity.memberships(lee.id) if m[0].slug == "demo"]
    principal = Principal("user", lee.id, lee.email, organization.id, frozenset({"clinician"}))
    access = Access(principal, services.authorizer)
    from datetime import date

    patient = await create_patient(
        services.database, access, NewPatient("Bench", "Synthetic", date(1970, 1, 1), f"B-{uuid.uuid4().hex[:8]}")
    )
    encounter = await create_encounter(services.database, access, patient_id=patient.id, reason="bench")
    recording = await upload_recording(
        services.database,
        services.store,
        access,
        encounter_id=encounter.id,
        chunks=read_file(wav),
        idempotency_key=None,
        limits=UploadLimits(10**9, 3 * 3600, services.settings.home_path("tmp")),
    )
    await services.audit_writer.write(access.take_pending())
    return recording.encounter_id


async def ours_round(services: Services, runtime: object, wav: Path) -> tuple[float, float, str]:
    from sqlalchemy import select

    from notes.pipeline.worker import WorkerOptions, run_worker
    from notes.transcripts.models import Transcript
    from notes.transcripts.repository import TranscriptRepository

    started = time.perf_counter()
    encounter_id = await upload(services, wav)
    uploaded = time.perf_counter()
    await run_worker(
        services,
        services.database_url,
        WorkerOptions(queues=("transcription",)),
        wait=False,
        runtime=runtime,  # type: ignore[arg-type]
    )
    finished = time.perf_counter()
    async with services.database.session() as session:
        transcript_id = await session.scalar(select(Transcript.id).where(Transcript.encounter_id == encounter_id))
        assert transcript_id is not None
        texts = await TranscriptRepository(session, runtime.access("transcriber").principal).texts([transcript_id])  # type: ignore[attr-defined]
    return finished - uploaded, uploaded - started, texts.get(transcript_id, "")


async def main_async(args: argparse.Namespace) -> None:
    from faster_whisper import WhisperModel

    from notes.pipeline.runtime import PipelineRuntime
    from transcription.model_store import resolve_model

    async with bench_database() as url:
        with tempfile.TemporaryDirectory(prefix="ambient-bench-") as tmp:
            wav, reference = synthesize(args.record, Path(tmp))
            audio_s = float(json.loads((Path(tmp) / f"{args.record}.segments.json").read_text())["duration_s"])
            settings = Settings(
                home=Path(tmp) / "home",
                database_url=url,
                llm=LlmSettings(enabled=False),
            )
            services = await open_services(settings)
            try:
                runtime = PipelineRuntime(services)
                engine = await asyncio.to_thread(runtime.speech_engine)  # loaded once, not timed
                prompt = engine.hotword_prompt(await asyncio.to_thread(runtime.hotwords))
                config = engine.config
                source = resolve_model(config.model)
                assert source.directory is not None, "the bare side loads the bundled model from its directory"
                bare = WhisperModel(
                    str(source.directory),
                    device=config.device,
                    compute_type=config.compute_type,
                    cpu_threads=config.cpu_threads,
                )
                print(
                    f"clip: {args.record}, {audio_s:.1f} s of synthetic speech; model {config.model} "
                    f"{config.compute_type}, beam {config.beam_size}, {config.cpu_threads} thread(s)"
                )
                ratios, rows = [], []
                for round_number in range(1, args.rounds + 1):
                    bare_s, bare_text = await asyncio.to_thread(bare_round, bare, wav, prompt, config)
                    ours_s, upload_s, our_text = await ours_round(services, runtime, wav)
                    ratios.append(ours_s / bare_s)
                    rows.append((bare_s, ours_s, upload_s, bare_text, our_text))
                    print(
                        f"round {round_number}: bare {bare_s:6.2f} s  ours {ours_s:6.2f} s  (upload {upload_s:4.2f} s)"
                        f"  ratio {ours_s / bare_s:.3f}"
                    )
                bare_wer = word_error_rate(reference, rows[-1][3])
                our_wer = word_error_rate(reference, rows[-1][4])
                print(
                    f"real-time factor: bare {statistics.median(r[0] for r in rows) / audio_s:.3f}, "
                    f"ours {statistics.median(r[1] for r in rows) / audio_s:.3f}"
                )
                print(f"word error rate vs the spoken text: bare {bare_wer:.3f}, ours {our_wer:.3f}")
                print(f"ratio={statistics.median(ratios):.3f}")
            finally:
                await runtime.aclose()
                await close_services(services)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--record", default="acibench-D2N053", help="dev-set encounter to synthesize")
    parser.add_argument("--rounds", type=int, default=3)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
