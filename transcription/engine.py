"""The speech engine: faster-whisper over validated audio, returning plain `Transcript` data.

One `SpeechEngine` holds one loaded model; build it once per process (worker lifespan) and reuse it.
Transcript text is patient data: nothing here logs it, and errors never quote it.
"""

from __future__ import annotations

import hashlib
import math
import pathlib
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from transcription.audio import AudioError, AudioErrorCode, decode_audio, probe_audio
from transcription.model_store import ModelError, ModelErrorCode, resolve_model
from transcription.types import EngineInfo, Segment, Speaker, Transcript, Word

if TYPE_CHECKING:
    import numpy.typing as npt

SAMPLE_RATE = 16000  # what whisper's feature extractor expects
NO_SPEECH = "NO_SPEECH"

# A stereo file whose channels are this alike is one microphone recorded twice (phones often write
# dual-mono): labelling its channels as two people would invent speakers.
_SAME_SOURCE_CORRELATION = 0.8
# A channel this quiet (RMS, full scale = 1) is not a person's microphone but an unused input.
_SILENT_CHANNEL_RMS = 1e-4
_MAX_HOTWORD_CHARS = 64
# Whisper's own "too repetitive" threshold (gzip ratio of the window's text). When every fallback
# temperature fails it keeps the output anyway; we drop it. With hotwords, tiny.en sometimes echoes
# the hotword list in a loop on a near-silent tail: a made-up medication list must never reach a note.
_REPETITION_RATIO = 2.4
# Whisper segments are re-cut into sentences, and wherever words are this far apart.
_SPLIT_PAUSE_MS = 500
_SENTENCE_END = (".", "?", "!")
_MIN_SENTENCE_WORDS = 3  # "Dr." or "No." alone is not worth a segment
_MIN_MS_PER_WORD = 60


@dataclass(frozen=True)
class EngineConfig:
    """How the engine loads and decodes. Defaults were measured on tiny.en, 2-core CPU (see tests)."""

    model: str = "tiny.en"  # "tiny.en" (bundled), "base" (pip extra), or a CTranslate2 whisper directory
    device: str = "cpu"  # "cpu", "cuda" or "auto"
    compute_type: str = "int8"  # int8 on CPU; "float16" / "int8_float16" on a GPU
    cpu_threads: int = 1  # 2 threads were no faster than 1 on a 2-core machine, and block the other core
    # 5 synthetic visits, no hotwords: WER 0.20 at beam 5 vs 0.26 at beam 1, for ~1.2-1.4x the time.
    beam_size: int = 5
    vad: bool = True  # Silero VAD (bundled with faster-whisper): skips silence, avoids hallucinations
    language: str = "en"
    # Whisper's fallback ladder when a window decodes badly (repetitive or improbable). With hotwords
    # it rescues windows that otherwise loop and get dropped (5 synthetic visits: WER 0.154 vs 0.167
    # with (0.0,) only) at ~1.6-2x the time. (0.0,) alone is faster and fully deterministic.
    temperatures: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    seed: int = 0  # for the sampling fallback; see SpeechEngine.__init__ for what it guarantees
    max_hotwords: int = 40  # terms taken from the caller's vocabulary, in the caller's order
    # Whisper allows 223 prompt tokens. 120 fits ~23 drug names; the spoken drugs placed after 30
    # others (160 tokens) were found 8/19 times vs 11/19 when first: put the patient's own list first.
    hotword_token_budget: int = 120


class SpeechEngine:
    """A loaded whisper model. Thread-safe: calls are serialised on the model."""

    def __init__(self, config: EngineConfig | None = None) -> None:
        # Imported here so that importing this module (for types, errors) does not load ctranslate2.
        import ctranslate2
        import faster_whisper
        from faster_whisper import WhisperModel

        self.config = config or EngineConfig()
        # ctranslate2 seeds each worker thread's sampling RNG once, when the thread first samples, so
        # this makes a process that runs the same calls in the same order reproducible (tests, CLI);
        # a repeat call in a long-lived worker can still differ where a window needed the fallback.
        ctranslate2.set_random_seed(self.config.seed)
        source = resolve_model(self.config.model)
        try:
            if source.files:
                # A name that is not a directory, so faster-whisper treats it as a mere label.
                self._model = WhisperModel(
                    f"in-memory:{source.name}",
                    device=self.config.device,
                    compute_type=self.config.compute_type,
                    cpu_threads=self.config.cpu_threads,
                    files=dict(source.files),
                )
            else:
                assert source.directory is not None
                self._model = WhisperModel(
                    str(source.directory),
                    device=self.config.device,
                    compute_type=self.config.compute_type,
                    cpu_threads=self.config.cpu_threads,
                    local_files_only=True,
                )
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelError(
                ModelErrorCode.MODEL_INVALID,
                f"model {source.name!r} could not be loaded on {self.config.device}/"
                f"{self.config.compute_type} ({type(exc).__name__})",
            ) from exc
        self._lock = threading.Lock()
        self.info = EngineInfo(
            engine="faster-whisper",
            engine_version=faster_whisper.__version__,
            model_name=source.name,
            model_version=source.version,
            device=self.config.device,
            compute_type=self.config.compute_type,
            settings=self._settings(),
        )

    # -- public API -------------------------------------------------------------------------------

    def transcribe(
        self,
        path: pathlib.Path,
        *,
        hotwords: Sequence[str] = (),
        channel_speakers: tuple[Speaker, Speaker] | None = ("clinician", "patient"),
        max_duration_seconds: float | None = None,
    ) -> Transcript:
        """Transcribe an audio file.

        Two-channel audio with ``channel_speakers`` is transcribed per channel (left = first speaker),
        unless the channels are copies of one microphone or one is silent; everything else is mixed
        to mono and its speaker is "unknown". Raises `AudioError` for unusable audio.
        """
        info = probe_audio(pathlib.Path(path), max_duration_seconds=max_duration_seconds)
        split = info.channels == 2 and channel_speakers is not None
        channels = decode_audio(pathlib.Path(path), sample_rate=SAMPLE_RATE, split_channels=split)
        return self.transcribe_channels(channels, hotwords=hotwords, channel_speakers=channel_speakers)

    def transcribe_channels(
        self,
        channels: Sequence[npt.NDArray[np.float32]],
        *,
        offset_ms: int = 0,
        hotwords: Sequence[str] = (),
        channel_speakers: tuple[Speaker, Speaker] | None = ("clinician", "patient"),
        first_index: int = 0,
    ) -> Transcript:
        """Like `transcribe_pcm` for decoded channels (``decode_audio(..., split_channels=True)``).

        Speakers come from `speaker_tracks`; the channels' segments are merged by start time.
        """
        if offset_ms < 0:
            raise ValueError("offset_ms must be >= 0")
        tracks = speaker_tracks(channels, channel_speakers)
        return self._transcribe_tracks(tracks, hotwords=hotwords, offset_ms=offset_ms, first_index=first_index)

    def transcribe_pcm(
        self,
        samples: npt.NDArray[np.float32],
        *,
        offset_ms: int = 0,
        hotwords: Sequence[str] = (),
        speaker: Speaker = "unknown",
        first_index: int = 0,
    ) -> Transcript:
        """Transcribe one contiguous stretch of a longer recording, for live chunked ingestion.

        ``samples``: mono float32 at 16 kHz (e.g. ``decode_audio(...)[0]`` of the uploaded chunks
        concatenated). ``offset_ms``: where the stretch starts in the whole recording. Segment and word
        times are offset by it and clamped to the stretch; ``duration_ms`` of the result is the end of
        the stretch in recording time (offset + length) and segment indices start at ``first_index``,
        so a caller can append the result to what it already has.

        Whisper sees only this stretch: a word cut at its edge is lost or garbled, so cut stretches at
        a pause (or re-transcribe the last unfinished segment with the next stretch).
        """
        if samples.ndim != 1:
            raise ValueError("transcribe_pcm takes one channel: call it once per channel")
        if offset_ms < 0:
            raise ValueError("offset_ms must be >= 0")
        track = np.ascontiguousarray(samples, dtype=np.float32)
        return self._transcribe_tracks(
            [(track, speaker)], hotwords=hotwords, offset_ms=offset_ms, first_index=first_index
        )

    def hotword_prompt(self, hotwords: Sequence[str]) -> str:
        """The hotword string whisper will see: caller's order, duplicates dropped, capped by tokens.

        A term is kept whole or not at all (whisper itself would cut the prompt mid-word), and later
        terms are dropped first, so callers should put the most important vocabulary first.
        """
        kept: list[str] = []
        seen: set[str] = set()
        for raw in hotwords:
            term = _clean_term(raw)
            if not term or term.casefold() in seen:
                continue
            candidate = ", ".join([*kept, term])
            if self._token_count(candidate) > self.config.hotword_token_budget:
                continue  # a shorter later term may still fit
            kept.append(term)
            seen.add(term.casefold())
            if len(kept) >= self.config.max_hotwords:
                break
        return ", ".join(kept)

    # -- internals --------------------------------------------------------------------------------

    def _settings(self) -> dict[str, Any]:
        config = asdict(self.config)
        config.pop("model")
        return {
            **config,
            "vad_filter": self.config.vad,
            "word_timestamps": True,
            "condition_on_previous_text": False,
            "confidence": "exp(avg_logprob)",
            "sample_rate": SAMPLE_RATE,
        }

    def _token_count(self, text: str) -> int:
        # Whisper encodes the hotwords with a leading space (faster_whisper get_prompt).
        return len(self._model.hf_tokenizer.encode(" " + text, add_special_tokens=False).ids)

    def _transcribe_tracks(
        self,
        tracks: list[tuple[npt.NDArray[np.float32], Speaker]],
        *,
        hotwords: Sequence[str],
        offset_ms: int,
        first_index: int,
    ) -> Transcript:
        length_ms = round(max(len(t) for t, _ in tracks) * 1000 / SAMPLE_RATE)
        end_ms = offset_ms + length_ms
        prompt = self.hotword_prompt(hotwords)
        drafts: list[tuple[int, Segment]] = []
        dropped = implausible = 0
        for channel, (samples, speaker) in enumerate(tracks):
            for segment in self._decode(samples, prompt):
                if segment.compression_ratio > _REPETITION_RATIO:
                    dropped += 1
                    continue
                for piece in _to_segments(segment, speaker, offset_ms, end_ms):
                    if _implausible(piece):
                        implausible += 1
                    else:
                        drafts.append((channel, piece))
        # Channels are merged by time; on a tie the left channel (first speaker) comes first.
        drafts.sort(key=lambda d: (d[1].start_ms, d[1].end_ms, d[0]))
        segments = tuple(replace(s, index=first_index + i) for i, (_, s) in enumerate(drafts))
        settings = dict(self.info.settings)
        if prompt:
            # Provenance without content: the vocabulary can be patient-specific (their medications).
            settings["hotwords"] = {
                "count": prompt.count(", ") + 1,
                "sha256": hashlib.sha256(prompt.encode()).hexdigest()[:12],
            }
        settings["channels_transcribed"] = len(tracks)
        settings["segments_dropped_as_repetitive"] = dropped
        settings["segments_dropped_as_implausible"] = implausible
        return Transcript(
            segments=segments,
            duration_ms=end_ms,
            language=self.config.language,
            engine=replace(self.info, settings=settings),
            empty_reason=None if segments else NO_SPEECH,
        )

    def _decode(self, samples: npt.NDArray[np.float32], prompt: str) -> Iterable[Any]:
        if samples.size == 0:
            return []
        with self._lock:
            segments, _info = self._model.transcribe(
                samples,
                language=self.config.language,
                beam_size=self.config.beam_size,
                vad_filter=self.config.vad,
                word_timestamps=True,
                condition_on_previous_text=False,
                hotwords=prompt or None,
                temperature=list(self.config.temperatures),
                compression_ratio_threshold=_REPETITION_RATIO,
            )
            # The generator decodes lazily: drain it while holding the lock.
            return list(segments)


def speaker_tracks(
    channels: Sequence[npt.NDArray[np.float32]],
    channel_speakers: tuple[Speaker, Speaker] | None = ("clinician", "patient"),
) -> list[tuple[npt.NDArray[np.float32], Speaker]]:
    """Pair decoded channels with speakers, never inventing a label.

    Two channels that look like one microphone per person (not copies of each other, neither silent)
    become one track per speaker; anything else is mixed into one track labelled "unknown".
    """
    arrays = [np.ascontiguousarray(c, dtype=np.float32) for c in channels]
    if not arrays:
        return [(np.zeros(0, dtype=np.float32), "unknown")]
    if len(arrays) == 2 and channel_speakers is not None and _separate_speakers(*arrays):
        return [(arrays[0], channel_speakers[0]), (arrays[1], channel_speakers[1])]
    if len(arrays) == 1:
        return [(arrays[0], "unknown")]
    length = min(len(a) for a in arrays)
    mixed = np.mean([a[:length] for a in arrays], axis=0).astype(np.float32)
    return [(mixed, "unknown")]


def _separate_speakers(left: npt.NDArray[np.float32], right: npt.NDArray[np.float32]) -> bool:
    """Whether two channels look like one microphone per person (see the module constants)."""
    if len(left) != len(right) or len(left) == 0:
        return False
    energy_l, energy_r = float(np.dot(left, left)), float(np.dot(right, right))
    n = len(left)
    if min(math.sqrt(energy_l / n), math.sqrt(energy_r / n)) < _SILENT_CHANNEL_RMS:
        return False
    correlation = float(np.dot(left, right)) / math.sqrt(energy_l * energy_r)
    return correlation < _SAME_SOURCE_CORRELATION


def _clean_term(raw: str) -> str:
    # Control characters and separators in caller text would change the prompt's shape.
    text = "".join(" " if unicodedata.category(ch)[0] == "C" or ch == "," else ch for ch in raw)
    return " ".join(text.split())[:_MAX_HOTWORD_CHARS].strip()


def _ms(seconds: float, offset_ms: int, end_ms: int) -> int:
    return min(max(offset_ms + round(seconds * 1000), offset_ms), end_ms)


def _to_segments(raw: Any, speaker: Speaker, offset_ms: int, end_ms: int) -> list[Segment]:
    """Convert one whisper segment into sentence-sized segments with clamped, monotone times.

    Whisper may return one segment for a whole 30 s window (it often does with hotwords), and with
    per-channel decoding such a window can span the other speaker's turns. Splitting on sentence ends
    and on pauses keeps segments short and in dialogue order once the channels are merged.
    """
    words: list[Word] = []
    previous_start = offset_ms
    for w in raw.words or ():
        if not w.word.strip():
            continue
        # Whisper's word times can overlap by a few ms and end past the audio: keep them monotone
        # and inside the stretch so consumers can binary-search them.
        start = max(_ms(w.start, offset_ms, end_ms), previous_start)
        end = max(_ms(w.end, offset_ms, end_ms), start)
        # Keep the leading space whisper puts on words: joining them rebuilds the text exactly.
        words.append(Word(w.word, start, end, min(max(float(w.probability), 0.0), 1.0)))
        previous_start = start
    # exp(mean token log-probability) is the geometric-mean token probability: 1.0 = certain,
    # ~0.37 at whisper's own -1.0 "low confidence" threshold. Pieces share their parent's value.
    confidence = min(max(math.exp(float(raw.avg_logprob)), 0.0), 1.0)
    if not words:
        text = raw.text.strip()
        if not text:
            return []
        start_ms = _ms(raw.start, offset_ms, end_ms)
        return [Segment(0, start_ms, max(_ms(raw.end, offset_ms, end_ms), start_ms), speaker, text, confidence)]
    pieces: list[list[Word]] = [[]]
    for word in words:
        current = pieces[-1]
        if current and (
            word.start_ms - current[-1].end_ms >= _SPLIT_PAUSE_MS
            or (current[-1].text.rstrip().endswith(_SENTENCE_END) and len(current) >= _MIN_SENTENCE_WORDS)
        ):
            pieces.append([])
        pieces[-1].append(word)
    return [
        Segment(
            index=0,
            start_ms=piece[0].start_ms,
            end_ms=piece[-1].end_ms,
            speaker=speaker,
            text="".join(w.text for w in piece).strip(),
            confidence=confidence,
            words=tuple(replace(w, text=w.text.strip()) for w in piece),
        )
        for piece in pieces
    ]


def _implausible(segment: Segment) -> bool:
    """Words crammed into no time: whisper's hallucinations at the end of a window look like this.

    Seen with hotwords: "lisinopril, and lisinopril, and omeprazole..." (14 words in 120 ms, none
    spoken). People say at most ~6 words a second; 60 ms a word is far outside speech.
    """
    count = len(segment.words)
    return count >= _MIN_SENTENCE_WORDS and segment.end_ms - segment.start_ms < count * _MIN_MS_PER_WORD


__all__ = [
    "NO_SPEECH",
    "AudioError",
    "AudioErrorCode",
    "EngineConfig",
    "ModelError",
    "ModelErrorCode",
    "SpeechEngine",
    "speaker_tracks",
]
