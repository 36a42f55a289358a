"""Transcript -> JSON-ready dict or timestamped text, and the body of `ambient transcribe`."""

from __future__ import annotations

import json
import pathlib
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from transcription.audio import AudioError
from transcription.model_store import ModelError
from transcription.types import Segment, Transcript

if TYPE_CHECKING:
    from transcription.engine import SpeechEngine

# Exit codes of `ambient transcribe` (BSD sysexits, so scripts can tell bad input from a bad setup).
EXIT_OK = 0
EXIT_BAD_AUDIO = 65  # EX_DATAERR: the file is empty, not audio, corrupt or too long
EXIT_MODEL_UNAVAILABLE = 69  # EX_UNAVAILABLE: unknown / missing / invalid model


def transcript_to_dict(transcript: Transcript) -> dict[str, Any]:
    """A JSON-serialisable view with a stable shape (lists, plain numbers, no tuples)."""
    engine = transcript.engine
    return {
        "duration_ms": transcript.duration_ms,
        "language": transcript.language,
        "empty_reason": transcript.empty_reason,
        "engine": {
            "engine": engine.engine,
            "engine_version": engine.engine_version,
            "model_name": engine.model_name,
            "model_version": engine.model_version,
            "device": engine.device,
            "compute_type": engine.compute_type,
            "settings": json.loads(json.dumps(engine.settings)),  # tuples -> lists
        },
        "segments": [_segment_to_dict(s) for s in transcript.segments],
    }


def _segment_to_dict(segment: Segment) -> dict[str, Any]:
    return {
        "index": segment.index,
        "start_ms": segment.start_ms,
        "end_ms": segment.end_ms,
        "speaker": segment.speaker,
        "text": segment.text,
        "confidence": round(segment.confidence, 4),
        "words": [
            {"text": w.text, "start_ms": w.start_ms, "end_ms": w.end_ms, "probability": round(w.probability, 4)}
            for w in segment.words
        ],
    }


def format_timestamp(ms: int) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def transcript_to_text(transcript: Transcript) -> str:
    """One line per segment: ``[00:00:01.230 - 00:00:03.500] clinician: text``."""
    if not transcript.segments:
        return f"(no transcript: {transcript.empty_reason or 'EMPTY'})\n"
    return "".join(
        f"[{format_timestamp(s.start_ms)} - {format_timestamp(s.end_ms)}] {s.speaker}: {s.text}\n"
        for s in transcript.segments
    )


def transcribe_command(
    path: pathlib.Path,
    *,
    model: str,
    as_json: bool,
    out: TextIO,
    err: TextIO | None = None,
    hotwords: Sequence[str] = (),
    max_duration_seconds: float | None = None,
    engine: SpeechEngine | None = None,
) -> int:
    """Run `ambient transcribe FILE`: print the transcript to ``out`` and return an exit code.

    Errors go to ``err`` (stderr by default) as ``error: CODE: reason``; they never quote the audio
    or the transcript. ``engine`` lets a caller (or a test) reuse an already loaded model.
    """
    err = err if err is not None else sys.stderr
    try:
        if engine is None:
            from transcription.engine import EngineConfig, SpeechEngine

            engine = SpeechEngine(EngineConfig(model=model))
        transcript = engine.transcribe(path, hotwords=hotwords, max_duration_seconds=max_duration_seconds)
    except AudioError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_BAD_AUDIO
    except ModelError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_MODEL_UNAVAILABLE
    if as_json:
        json.dump(transcript_to_dict(transcript), out, indent=2)
        out.write("\n")
    else:
        out.write(transcript_to_text(transcript))
    return EXIT_OK
