"""Rendering transcripts and the `ambient transcribe` command body."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tests.support.speech import SyntheticClip, synthesize_clip
from transcription.engine import SpeechEngine
from transcription.render import (
    EXIT_BAD_AUDIO,
    EXIT_MODEL_UNAVAILABLE,
    EXIT_OK,
    format_timestamp,
    transcribe_command,
    transcript_to_dict,
    transcript_to_text,
)
from transcription.types import EngineInfo, Segment, Transcript, Word

INFO = EngineInfo("faster-whisper", "1.2.1", "tiny.en", "abc123", "cpu", "int8", {"temperatures": (0.0, 0.2)})


def _transcript() -> Transcript:
    words = (Word("Hello", 1230, 1500, 0.91234), Word("there.", 1500, 2000, 0.8))
    segment = Segment(0, 1230, 3_723_004, "clinician", "Hello there.", 0.765432, words)
    return Transcript((segment,), 3_800_000, "en", INFO)


def test_dict_is_json_ready() -> None:
    data = transcript_to_dict(_transcript())
    assert json.loads(json.dumps(data)) == data
    assert data["segments"][0]["words"][0] == {"text": "Hello", "start_ms": 1230, "end_ms": 1500, "probability": 0.9123}
    assert data["engine"]["settings"]["temperatures"] == [0.0, 0.2]


def test_text_has_timestamps_and_speakers() -> None:
    assert transcript_to_text(_transcript()) == "[00:00:01.230 - 01:02:03.004] clinician: Hello there.\n"
    empty = Transcript((), 5000, "en", INFO, empty_reason="NO_SPEECH")
    assert transcript_to_text(empty) == "(no transcript: NO_SPEECH)\n"
    assert format_timestamp(0) == "00:00:00.000"


@pytest.fixture(scope="module")
def one_turn(speech_tools: None, audio_dir: Path) -> SyntheticClip:
    return synthesize_clip([("clinician", "Please take atorvastatin every night.")], audio_dir / "one_turn.wav")


@pytest.mark.slow
def test_command_prints_text_and_json(engine: SpeechEngine, one_turn: SyntheticClip) -> None:
    out = io.StringIO()
    assert transcribe_command(one_turn.path, model="tiny.en", as_json=False, out=out, engine=engine) == EXIT_OK
    assert out.getvalue().startswith("[00:00:0")
    out = io.StringIO()
    assert transcribe_command(one_turn.path, model="tiny.en", as_json=True, out=out, engine=engine) == EXIT_OK
    data = json.loads(out.getvalue())
    assert data["segments"] and data["engine"]["model_name"] == "tiny.en"


@pytest.mark.slow
def test_command_refuses_bad_audio_without_content(engine: SpeechEngine, tmp_path: Path) -> None:
    bad = tmp_path / "visit.wav"
    bad.write_text("Patient Jane Roe, DOB 1970-01-01, takes warfarin")
    out, err = io.StringIO(), io.StringIO()
    code = transcribe_command(bad, model="tiny.en", as_json=False, out=out, err=err, engine=engine)
    assert code == EXIT_BAD_AUDIO
    assert out.getvalue() == ""
    assert err.getvalue().startswith("error: NOT_AUDIO:")
    assert "Jane" not in err.getvalue() and "warfarin" not in err.getvalue()


def test_command_reports_unknown_model(tmp_path: Path) -> None:
    err = io.StringIO()
    code = transcribe_command(tmp_path / "x.wav", model="huge-v9", as_json=False, out=io.StringIO(), err=err)
    assert code == EXIT_MODEL_UNAVAILABLE
    assert "UNKNOWN_MODEL" in err.getvalue() and "tiny.en" in err.getvalue()
