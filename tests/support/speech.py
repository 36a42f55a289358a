"""Synthetic clinic speech for tests: espeak-ng voices, resampled by sox to 16 kHz 16-bit WAV.

All text here is invented for tests. Real recordings or transcripts never belong in the repository.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 16000
VOICES = {"clinician": "en-us+m3", "patient": "en-us+f2"}
WORDS_PER_MINUTE = 150  # a little slower than espeak's 175: closer to a calm consultation
GAP_MS = 600  # silence between turns, long enough for the VAD to split them

# A short made-up follow-up visit. Numbers are written as a clinician would type them; the WER
# normalisation spells them out, so "500" and "five hundred" agree.
VISIT: tuple[tuple[str, str], ...] = (
    ("clinician", "Good morning. What brings you in today?"),
    ("patient", "My blood sugar has been high, and I feel tired most afternoons."),
    ("clinician", "Are you still taking metformin 500 milligrams twice a day?"),
    ("patient", "Yes, with breakfast and dinner. I also take lisinopril 10 milligrams every morning."),
    ("clinician", "Your blood pressure is 138 over 86 today. Any chest pain or shortness of breath?"),
    ("patient", "No chest pain. I get a little short of breath on the stairs."),
    (
        "clinician",
        "Let's start atorvastatin 20 milligrams at night for your cholesterol, and recheck your labs in three months.",
    ),
    ("patient", "Okay. Should I stop drinking soda?"),
    ("clinician", "Yes, please cut down on sugary drinks and walk thirty minutes a day."),
)
VISIT_DRUGS = ("metformin", "lisinopril", "atorvastatin")


@dataclass(frozen=True)
class TurnSpan:
    speaker: str
    text: str
    start_ms: int
    end_ms: int


@dataclass(frozen=True)
class SyntheticClip:
    path: Path
    turns: tuple[TurnSpan, ...]
    duration_ms: int
    stereo: bool

    @property
    def reference(self) -> str:
        return reference_text(tuple((t.speaker, t.text) for t in self.turns))

    def reference_for(self, speaker: str) -> str:
        return " ".join(t.text for t in self.turns if t.speaker == speaker)

    def speaker_at(self, ms: int) -> str:
        """The speaker whose turn covers ``ms`` (or is nearest to it), for checking labels."""
        best = min(
            self.turns,
            key=lambda t: 0 if t.start_ms <= ms <= t.end_ms else min(abs(ms - t.start_ms), abs(ms - t.end_ms)),
        )
        return best.speaker


def tools_available() -> bool:
    return shutil.which("espeak-ng") is not None and shutil.which("sox") is not None


def reference_text(turns: Sequence[tuple[str, str]]) -> str:
    return " ".join(text for _, text in turns)


def synthesize(turns: Sequence[tuple[str, str]], out_path: Path, *, stereo: bool = False) -> Path:
    """Speak ``turns`` ((speaker, text) pairs) into a 16 kHz 16-bit WAV at ``out_path``."""
    return synthesize_clip(turns, out_path, stereo=stereo).path


def synthesize_clip(
    turns: Sequence[tuple[str, str]], out_path: Path, *, stereo: bool = False, gap_ms: int = GAP_MS
) -> SyntheticClip:
    """Like ``synthesize`` but also returns where each turn lies, for checking times and speakers.

    Mono: turns follow each other on one channel. Stereo: the clinician is on the left channel and
    the patient on the right, each silent while the other speaks (an ideal two-microphone setup).
    """
    gap = np.zeros(SAMPLE_RATE * gap_ms // 1000, dtype=np.int16)
    channels: dict[str, list[npt.NDArray[np.int16]]] = {"clinician": [gap], "patient": [gap]}
    spans: list[TurnSpan] = []
    position = len(gap)
    with tempfile.TemporaryDirectory() as tmp:
        for i, (speaker, text) in enumerate(turns):
            audio = _speak(text, VOICES[speaker], Path(tmp) / f"turn{i}")
            silence = np.zeros_like(audio)
            for name, track in channels.items():
                track.extend([audio if name == speaker else silence, gap])
            start = position * 1000 // SAMPLE_RATE
            position += len(audio) + len(gap)
            spans.append(TurnSpan(speaker, text, start, start + len(audio) * 1000 // SAMPLE_RATE))
    left, right = np.concatenate(channels["clinician"]), np.concatenate(channels["patient"])
    # Mono: each turn lies on exactly one track and the other is zero, so the sum is the dialogue.
    frames = np.stack([left, right], axis=1) if stereo else (left + right)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(out_path), "wb") as out:
        out.setnchannels(2 if stereo else 1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(np.ascontiguousarray(frames).tobytes())
    return SyntheticClip(out_path, tuple(spans), position * 1000 // SAMPLE_RATE, stereo)


def write_wav(path: Path, samples: npt.NDArray[np.float32], *, sample_rate: int = SAMPLE_RATE) -> Path:
    """Write float samples in [-1, 1] (shape (n,) or (n, channels)) as 16-bit PCM."""
    data = np.clip(samples, -1.0, 1.0)
    pcm = (data * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1 if pcm.ndim == 1 else pcm.shape[1])
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(np.ascontiguousarray(pcm).tobytes())
    return path


def _speak(text: str, voice: str, stem: Path) -> npt.NDArray[np.int16]:
    raw, resampled = stem.with_suffix(".raw.wav"), stem.with_suffix(".wav")
    # Text goes in on stdin so it can never be read as an option.
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(WORDS_PER_MINUTE), "-w", str(raw), "--stdin"],
        input=text.encode(),
        check=True,
        capture_output=True,
    )
    subprocess.run(
        ["sox", str(raw), "-r", str(SAMPLE_RATE), "-b", "16", "-c", "1", str(resampled)],
        check=True,
        capture_output=True,
    )
    with wave.open(str(resampled), "rb") as f:
        return np.frombuffer(f.readframes(f.getnframes()), dtype="<i2").copy()
