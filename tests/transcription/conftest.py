"""Shared fixtures: one real tiny.en engine and synthetic visits, built once per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.speech import VISIT, SyntheticClip, synthesize_clip, tools_available
from transcription.engine import SpeechEngine
from transcription.types import Transcript

# The first four turns (~25 s): enough for two speakers, cheaper than the whole visit.
SHORT_VISIT = VISIT[:4]


@pytest.fixture(scope="session")
def speech_tools() -> None:
    if not tools_available():
        pytest.skip("espeak-ng and sox are needed to synthesize test speech (apt-get install espeak-ng sox)")


@pytest.fixture(scope="session")
def engine() -> Iterator[SpeechEngine]:
    yield SpeechEngine()


@pytest.fixture(scope="session")
def audio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("audio")


@pytest.fixture(scope="session")
def visit_mono(speech_tools: None, audio_dir: Path) -> SyntheticClip:
    return synthesize_clip(VISIT, audio_dir / "visit_mono.wav")


@pytest.fixture(scope="session")
def short_mono(speech_tools: None, audio_dir: Path) -> SyntheticClip:
    return synthesize_clip(SHORT_VISIT, audio_dir / "short_mono.wav")


@pytest.fixture(scope="session")
def short_stereo(speech_tools: None, audio_dir: Path) -> SyntheticClip:
    return synthesize_clip(SHORT_VISIT, audio_dir / "short_stereo.wav", stereo=True)


@pytest.fixture(scope="session")
def visit_plain(engine: SpeechEngine, visit_mono: SyntheticClip) -> Transcript:
    """The whole visit transcribed without vocabulary help."""
    return engine.transcribe(visit_mono.path)


@pytest.fixture(scope="session")
def visit_hotwords(engine: SpeechEngine, visit_mono: SyntheticClip) -> Transcript:
    """The whole visit transcribed with a small medication vocabulary as hotwords."""
    return engine.transcribe(visit_mono.path, hotwords=MEDICATION_VOCABULARY)


# What a caller would pass: the patient's medication list, then a few common drugs.
MEDICATION_VOCABULARY = (
    "metformin",
    "lisinopril",
    "atorvastatin",
    "amlodipine",
    "levothyroxine",
    "omeprazole",
)
