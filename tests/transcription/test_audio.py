"""Audio validation: durations from decoded samples, MIME types from the container, typed refusals."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tests.support import audio_files
from tests.support.speech import SyntheticClip, write_wav
from transcription.audio import AudioError, AudioErrorCode, decode_audio, probe_audio

SECRET = "PATIENT-NAME-JANE-DOE-1970"


def test_probe_wav_reports_decoded_duration_and_type(short_mono: SyntheticClip) -> None:
    info = probe_audio(short_mono.path)
    assert info.duration_seconds == pytest.approx(short_mono.duration_ms / 1000, abs=0.002)
    assert (info.channels, info.sample_rate) == (1, 16000)
    assert (info.codec, info.container, info.content_type) == ("pcm_s16le", "wav", "audio/wav")


def test_probe_stereo_wav(short_stereo: SyntheticClip) -> None:
    assert probe_audio(short_stereo.path).channels == 2


@pytest.mark.parametrize(
    ("name", "make", "content_type", "codec"),
    [
        ("clip.flac", lambda src, dst: audio_files.sox_convert(src, dst), "audio/flac", "flac"),
        ("clip.ogg", lambda src, dst: audio_files.sox_convert(src, dst), "audio/ogg", "vorbis"),
        (
            "clip.webm",
            lambda src, dst: audio_files.transcode(src, dst, container="webm", codec="libopus", rate=48000),
            "audio/webm",
            "opus",
        ),
        (
            "clip.m4a",
            lambda src, dst: audio_files.transcode(src, dst, container="mp4", codec="aac"),
            "audio/mp4",
            "aac",
        ),
        (
            "clip.mp3",
            lambda src, dst: audio_files.transcode(src, dst, container="mp3", codec="libmp3lame"),
            "audio/mpeg",
            "mp3",
        ),
    ],
)
def test_probe_compressed_formats(
    short_mono: SyntheticClip, tmp_path: Path, name: str, make: object, content_type: str, codec: str
) -> None:
    assert callable(make)
    # A misleading extension must not matter: the type comes from the bytes.
    path = make(short_mono.path, tmp_path / name)
    disguised = path.rename(tmp_path / "upload.wav.txt")
    info = probe_audio(disguised)
    assert (info.content_type, info.codec) == (content_type, codec)
    # Encoders pad a little (AAC: 1024 priming samples plus the last frame): within 0.2 s.
    assert info.duration_seconds == pytest.approx(short_mono.duration_ms / 1000, abs=0.2)


def test_decode_mono_and_split_channels(short_stereo: SyntheticClip) -> None:
    (mono,) = decode_audio(short_stereo.path)
    left, right = decode_audio(short_stereo.path, split_channels=True)
    n = round(short_stereo.duration_ms * 16)
    assert mono.dtype == np.float32 and abs(len(mono) - n) <= 16
    assert len(left) == len(right) == len(mono)
    # The first turn is the clinician's: on the left channel only.
    first = short_stereo.turns[0]
    span = slice(first.start_ms * 16, first.end_ms * 16)
    assert np.abs(left[span]).max() > 0.05
    assert np.abs(right[span]).max() == 0.0


def test_decode_resamples(short_mono: SyntheticClip) -> None:
    (audio,) = decode_audio(short_mono.path, sample_rate=8000)
    assert abs(len(audio) - short_mono.duration_ms * 8) <= 16


# -- refusals --------------------------------------------------------------------------------------


def _empty(tmp: Path, clip: SyntheticClip) -> Path:
    path = tmp / "empty.wav"
    path.write_bytes(b"")
    return path


def _text(tmp: Path, clip: SyntheticClip) -> Path:
    path = tmp / "notes.wav"  # an audio extension on text
    path.write_text(f"Visit note for {SECRET}: BP 138/86\n" * 50)
    return path


def _random(tmp: Path, clip: SyntheticClip) -> Path:
    path = tmp / "noise.mp3"
    path.write_bytes(np.random.default_rng(1).integers(0, 256, 40_000, dtype=np.uint8).tobytes())
    return path


def _png(tmp: Path, clip: SyntheticClip) -> Path:
    return audio_files.write_png(tmp / "photo.png")


def _video(tmp: Path, clip: SyntheticClip) -> Path:
    return audio_files.write_video_without_audio(tmp / "video.mp4")


def _wav_truncated(tmp: Path, clip: SyntheticClip) -> Path:
    return audio_files.truncate(clip.path, tmp / "cut.wav", keep=0.6)


def _wav_header_only(tmp: Path, clip: SyntheticClip) -> Path:
    return audio_files.truncate(clip.path, tmp / "header.wav", keep=44 / clip.path.stat().st_size)


def _flac_truncated(tmp: Path, clip: SyntheticClip) -> Path:
    flac = audio_files.sox_convert(clip.path, tmp / "full.flac")
    return audio_files.truncate(flac, tmp / "cut.flac", keep=0.5)


def _webm_truncated(tmp: Path, clip: SyntheticClip) -> Path:
    webm = audio_files.transcode(clip.path, tmp / "full.webm", container="webm", codec="libopus")
    return audio_files.truncate(webm, tmp / "cut.webm", keep=0.5)


def _m4a_truncated(tmp: Path, clip: SyntheticClip) -> Path:
    m4a = audio_files.transcode(clip.path, tmp / "full.m4a", container="mp4", codec="aac")
    return audio_files.truncate(m4a, tmp / "cut.m4a", keep=0.5)


BAD_FILES = [
    (_empty, AudioErrorCode.EMPTY),
    (_text, AudioErrorCode.NOT_AUDIO),
    (_random, AudioErrorCode.NOT_AUDIO),
    (_png, AudioErrorCode.NOT_AUDIO),
    (_video, AudioErrorCode.NOT_AUDIO),
    (_wav_truncated, AudioErrorCode.CORRUPT),
    (_wav_header_only, AudioErrorCode.CORRUPT),
    (_flac_truncated, AudioErrorCode.CORRUPT),
    (_webm_truncated, AudioErrorCode.CORRUPT),
    (_m4a_truncated, AudioErrorCode.CORRUPT),
]


# Truncation that only shows against the header is probe_audio's job; decode_audio trusts the data.
_HEADER_ONLY = (_wav_truncated, _wav_header_only, _webm_truncated)
CASES = [("probe", make, code) for make, code in BAD_FILES] + [
    ("decode", make, code) for make, code in BAD_FILES if make not in _HEADER_ONLY
]


@pytest.mark.parametrize(
    ("operation", "make", "code"), CASES, ids=[f"{op}-{m.__name__.strip('_')}" for op, m, _ in CASES]
)
def test_bad_files_are_refused_with_their_code(
    short_mono: SyntheticClip,
    tmp_path: Path,
    operation: str,
    make: Callable[[Path, SyntheticClip], Path],
    code: AudioErrorCode,
) -> None:
    path = make(tmp_path, short_mono)
    with pytest.raises(AudioError) as caught:
        probe_audio(path) if operation == "probe" else decode_audio(path)
    assert caught.value.code is code
    assert SECRET not in str(caught.value)


def test_missing_file_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(AudioError) as caught:
        probe_audio(tmp_path / "nope.wav")
    assert caught.value.code is AudioErrorCode.UNREADABLE


def test_too_long_stops_early(short_mono: SyntheticClip) -> None:
    with pytest.raises(AudioError) as caught:
        probe_audio(short_mono.path, max_duration_seconds=5)
    assert caught.value.code is AudioErrorCode.TOO_LONG
    assert probe_audio(short_mono.path, max_duration_seconds=600).duration_seconds > 5


def test_streaming_wav_header_is_accepted(tmp_path: Path) -> None:
    """Recorders that stream WAV leave the data size at 0xFFFFFFFF: not truncation."""
    path = write_wav(tmp_path / "live.wav", np.zeros(16000, dtype=np.float32))
    data = bytearray(path.read_bytes())
    data[40:44] = b"\xff\xff\xff\xff"
    path.write_bytes(bytes(data))
    assert probe_audio(path).duration_seconds == pytest.approx(1.0, abs=0.01)


def test_long_wav_probe_is_fast(tmp_path: Path) -> None:
    """30 minutes of PCM decode in well under a second (3 hours measured at ~1 s)."""
    import time

    path = write_wav(tmp_path / "long.wav", np.zeros(16000 * 1800, dtype=np.float32))
    started = time.perf_counter()
    assert probe_audio(path).duration_seconds == pytest.approx(1800.0)
    assert time.perf_counter() - started < 2.0


def test_audio_module_does_not_load_the_engine() -> None:
    """The API process validates uploads without importing faster-whisper or ctranslate2."""
    code = (
        "import sys, transcription.audio, transcription.engine, transcription.model_store, "
        "transcription.render, transcription.wer\n"
        "heavy = {'faster_whisper', 'ctranslate2', 'onnxruntime'} & set(sys.modules)\n"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])
