"""Audio validation and decoding with PyAV.

The API process imports this module to check uploads, so it must stay light: PyAV and numpy only,
never faster-whisper or ctranslate2.

Safety choices:
- Files are opened through a Python file object, never by name, so FFmpeg cannot interpret a path as
  a protocol (``concat:``, ``http:``) or pick a demuxer from the file extension.
- Only audio demuxers are allowed (``format_whitelist``); anything else (text, images, playlists) is
  refused as NOT_AUDIO before a decoder runs.
- Durations are counted from decoded samples, never taken from the container's claim; the claim is
  used only to notice truncation.
- Error messages name the problem, never the file's content or the decoder's text (which can quote
  the input).
"""

from __future__ import annotations

import pathlib
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, BinaryIO

import av
import av.error
import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float32]

# Demuxers FFmpeg may use. Names match any entry of a demuxer's comma-separated name list.
_ALLOWED_FORMATS = "wav,w64,mp3,ogg,matroska,webm,mov,mp4,m4a,flac,aac,aiff,caf,amr"

# FFmpeg demuxer name -> MIME type. Chosen from the detected container, never from the client.
_CONTENT_TYPES = {
    "wav": "audio/wav",
    "w64": "audio/wav",
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "flac": "audio/flac",
    "aac": "audio/aac",
    "aiff": "audio/aiff",
    "caf": "audio/x-caf",
    "amr": "audio/amr",
}

# Larger reads than PyAV's 32 KiB default: ~10% faster on long PCM files.
_IO_BUFFER = 1 << 20


class AudioErrorCode(StrEnum):
    EMPTY = "EMPTY"  # zero bytes, or a valid container holding no samples
    NOT_AUDIO = "NOT_AUDIO"  # not an audio container, or one with no audio stream
    CORRUPT = "CORRUPT"  # recognisable audio that is truncated or cannot be decoded
    TOO_LONG = "TOO_LONG"  # longer than the caller's limit
    UNREADABLE = "UNREADABLE"  # the file itself could not be read (missing, permissions)


class AudioError(Exception):
    """A refused audio file. The message is safe to show and log: it never quotes the file."""

    def __init__(self, code: AudioErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code.value}: {self.message}"


@dataclass(frozen=True, slots=True)
class AudioInfo:
    duration_seconds: float  # decoded samples / sample rate
    channels: int
    sample_rate: int
    codec: str
    container: str  # FFmpeg's demuxer name, e.g. "wav", "matroska,webm"
    content_type: str  # MIME type of the detected container


def probe_audio(path: pathlib.Path, *, max_duration_seconds: float | None = None) -> AudioInfo:
    """Validate an audio file by decoding all of it; raise AudioError with a code if it is unusable.

    Cost is one full decode (a 3-hour 16 kHz WAV takes about a second); with
    ``max_duration_seconds`` it stops as soon as the limit is passed.
    """
    path = pathlib.Path(path)
    _check_size(path)
    with _open(path) as container:
        stream = _audio_stream(container)
        ctx = stream.codec_context
        # Count whole samples per rate so a 3-hour file does not drift with float addition.
        done, samples, rate = 0.0, 0, ctx.sample_rate or 1
        duration = 0.0
        for frame in _frames(container, stream):
            if frame.sample_rate != rate:
                done, samples, rate = done + samples / rate, 0, frame.sample_rate
            samples += frame.samples
            duration = done + samples / rate
            if max_duration_seconds is not None and duration > max_duration_seconds:
                raise AudioError(AudioErrorCode.TOO_LONG, f"audio is longer than {max_duration_seconds:g} seconds")
        container_name = container.format.name
        if _looks_truncated(path, container, stream, duration):
            raise AudioError(AudioErrorCode.CORRUPT, "audio is shorter than its header says (truncated)")
        if duration == 0.0:
            raise AudioError(AudioErrorCode.EMPTY, "the file holds no audio samples")
        return AudioInfo(
            duration_seconds=duration,
            channels=ctx.channels,
            sample_rate=ctx.sample_rate,
            codec=ctx.codec.canonical_name,
            container=container_name,
            content_type=_content_type(path, container_name),
        )


def decode_audio(path: pathlib.Path, *, sample_rate: int = 16000, split_channels: bool = False) -> list[FloatArray]:
    """Decode to float32 samples in [-1, 1] at ``sample_rate``.

    Returns one array (the mono mix) or, with ``split_channels``, one array per source channel.
    Memory is 4 bytes per sample per returned channel (a 1-hour mono file at 16 kHz: ~230 MB).
    Raises AudioError like ``probe_audio`` (but does not check truncation: probe first).
    """
    path = pathlib.Path(path)
    _check_size(path)
    with _open(path) as container:
        stream = _audio_stream(container)
        channels = stream.codec_context.channels
        layout: Any = stream.codec_context.layout if split_channels else "mono"
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=sample_rate)
        out_channels = channels if split_channels else 1
        chunks: list[list[FloatArray]] = [[] for _ in range(out_channels)]

        def collect(frames: list[av.AudioFrame]) -> None:
            for resampled in frames:
                planes = resampled.to_ndarray()  # planar: shape (channels, samples)
                for i in range(out_channels):
                    chunks[i].append(planes[i].astype(np.float32, copy=False))

        for frame in _frames(container, stream):
            collect(resampler.resample(frame))
        collect(resampler.resample(None))
    arrays = [np.concatenate(c) if c else np.zeros(0, dtype=np.float32) for c in chunks]
    if arrays[0].size == 0:
        raise AudioError(AudioErrorCode.EMPTY, "the file holds no audio samples")
    return arrays


def _check_size(path: pathlib.Path) -> None:
    try:
        size = path.stat().st_size
    except OSError:
        raise AudioError(AudioErrorCode.UNREADABLE, "the audio file could not be read") from None
    if size == 0:
        raise AudioError(AudioErrorCode.EMPTY, "the file is empty")


@contextmanager
def _open(path: pathlib.Path) -> Iterator[Any]:
    try:
        handle: BinaryIO = path.open("rb")
    except OSError:
        raise AudioError(AudioErrorCode.UNREADABLE, "the audio file could not be read") from None
    with handle:
        try:
            container = av.open(
                handle, mode="r", options={"format_whitelist": _ALLOWED_FORMATS}, buffer_size=_IO_BUFFER
            )
        except (av.error.FFmpegError, OSError, EOFError) as exc:
            # A known audio signature that FFmpeg cannot open is damaged audio, not "not audio".
            handle.seek(0)
            code = AudioErrorCode.CORRUPT if _has_audio_signature(handle.read(64)) else AudioErrorCode.NOT_AUDIO
            text = "audio container is damaged" if code is AudioErrorCode.CORRUPT else "not an audio file"
            raise AudioError(code, f"{text} ({type(exc).__name__})") from None
        with container:
            yield container


@contextmanager
def audio_frames(path: pathlib.Path) -> Iterator[Iterator[av.AudioFrame]]:
    """The decoded frames of a file's audio stream, with the same safety rules and typed errors as probing."""
    with _open(path) as container:
        yield _frames(container, _audio_stream(container))


def _audio_stream(container: Any) -> Any:
    if not container.streams.audio:
        raise AudioError(AudioErrorCode.NOT_AUDIO, "the file has no audio stream")
    return container.streams.audio[0]


def _frames(container: Any, stream: Any) -> Iterator[av.AudioFrame]:
    try:
        for packet in container.demux(stream):
            yield from packet.decode()
    except (av.error.FFmpegError, EOFError) as exc:
        raise AudioError(AudioErrorCode.CORRUPT, f"audio could not be decoded ({type(exc).__name__})") from None


def _has_audio_signature(head: bytes) -> bool:
    return (
        (head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE")
        or head[:4] in (b"OggS", b"fLaC", b"\x1aE\xdf\xa3", b"caff")
        or head[:3] == b"ID3"
        or head[4:8] == b"ftyp"
        or (head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"))
        or head[:5] == b"#!AMR"
    )  # A bare MPEG frame sync is left out: 1 in 2,000 random files starts with one.


def _looks_truncated(path: pathlib.Path, container: Any, stream: Any, decoded: float) -> bool:
    """True when the container promised clearly more audio than could be decoded.

    Only where the promise is exact: WAV's data-chunk size (FFmpeg itself trusts the file size, so we
    read the header), and the durations written by FLAC, MP4 and WebM/Matroska muxers. MP3 is checked
    only with a Xing/Info/VBRI header: without one FFmpeg estimates from the bitrate, which is wrong
    for VBR. Ogg and live WebM carry no total length, so their truncation cannot be seen.
    """
    name = container.format.name
    if name == "wav":
        return _wav_truncated(path)
    if name == "mp3" and not _mp3_has_length_header(path):
        return False
    if name not in ("flac", "mp3", "matroska,webm") and not name.startswith("mov,"):
        return False
    if stream.duration is not None and stream.time_base is not None:
        declared = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        declared = container.duration / av.time_base
    else:
        return False
    return decoded < declared - max(0.5, 0.02 * declared)


def _wav_truncated(path: pathlib.Path) -> bool:
    with path.open("rb") as f:
        head = f.read(12)
        if head[:4] != b"RIFF":  # RF64 keeps its real size elsewhere; not worth parsing here
            return False
        file_size = path.stat().st_size
        pos = 12
        while pos + 8 <= file_size:
            f.seek(pos)
            chunk_id, size = struct.unpack("<4sI", f.read(8))
            if chunk_id == b"data":
                # 0 and 0xFFFFFFFF are written by streaming recorders that never patch the header.
                return size not in (0, 0xFFFFFFFF) and pos + 8 + size > file_size
            pos += 8 + size + (size & 1)
        return False


def _mp3_has_length_header(path: pathlib.Path) -> bool:
    with path.open("rb") as f:
        head = f.read(64 * 1024)  # room for a large ID3 tag (cover art is usually at the end)
    return any(tag in head for tag in (b"Xing", b"Info", b"VBRI"))


def _content_type(path: pathlib.Path, container_name: str) -> str:
    if container_name in _CONTENT_TYPES:
        return _CONTENT_TYPES[container_name]
    with path.open("rb") as f:
        head = f.read(64)
    if container_name == "matroska,webm":
        return "audio/webm" if b"webm" in head else "audio/x-matroska"
    if container_name.startswith("mov,"):
        return "audio/3gpp" if head[8:11] == b"3gp" else "audio/mp4"
    return "application/octet-stream"
