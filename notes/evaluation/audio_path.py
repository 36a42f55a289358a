"""The whole chain for `ambient eval nlp --audio`: dialogue → synthetic speech (the dev set's
make_audio.sh) → the speech engine with the medication hotwords → the NLP engine on the segments."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nlp.engine import ClinicalNlp
from nlp.types import Findings, Passage
from nlp.vocabulary import medication_hotwords
from transcription.engine import EngineConfig, SpeechEngine

Record = dict[str, Any]


class AudioPathUnavailable(RuntimeError):
    """make_audio.sh, espeak-ng or sox is missing: the message says what to install."""


def audio_extractor(
    make_audio: Path, *, cache_dir: Path | None, engine_config: EngineConfig, hotwords: int = 100
) -> Callable[[Record], Findings]:
    if not make_audio.is_file():
        raise AudioPathUnavailable(f"{make_audio} not found (it sits beside the dev set)")
    missing = [tool for tool in ("espeak-ng", "sox", "bash") if shutil.which(tool) is None]
    if missing:
        raise AudioPathUnavailable(f"missing {', '.join(missing)}: apt-get install -y espeak-ng sox")
    bash = str(shutil.which("bash"))
    speech = SpeechEngine(engine_config)
    nlp = ClinicalNlp.load(cache_dir)
    vocabulary = medication_hotwords(hotwords, cache_dir)

    def extract(record: Record) -> Findings:
        with tempfile.TemporaryDirectory(prefix="ambient-eval-audio-") as tmp:
            source = Path(tmp) / "record.json"
            source.write_text(json.dumps(record))
            subprocess.run(  # noqa: S603 - our own paths, no shell
                [bash, str(make_audio), "-o", tmp, str(source)], check=True, capture_output=True, timeout=600
            )
            wav = next(Path(tmp).glob("*.wav"))
            transcript = speech.transcribe(wav, hotwords=vocabulary)
        return nlp.extract([Passage(id=str(s.index), text=s.text, speaker=s.speaker) for s in transcript.segments])

    return extract
