"""Audio (and not-audio) files for tests, made offline with PyAV, sox and the standard library."""

from __future__ import annotations

import struct
import subprocess
import zlib
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import numpy as np
from av.audio.stream import AudioStream


def transcode(src: Path, dst: Path, *, container: str, codec: str, rate: int | None = None) -> Path:
    """Re-encode ``src`` with PyAV (e.g. container="webm", codec="libopus"; "mp4"/"aac"; "mp3"/"libmp3lame")."""
    with av.open(str(src)) as inp, av.open(str(dst), "w", format=container) as out:
        in_stream = inp.streams.audio[0]
        # WAV reports an unordered layout ("1 channels") that encoders refuse: name it.
        layout = "mono" if in_stream.channels == 1 else "stereo"
        out_stream = cast(AudioStream, out.add_stream(codec, rate=rate or in_stream.rate, layout=layout))
        for frame in inp.decode(in_stream):
            frame.pts = None  # let the encoder's resampler renumber
            for packet in out_stream.encode(frame):
                out.mux(packet)
        for packet in out_stream.encode(None):
            out.mux(packet)
    return dst


def sox_convert(src: Path, dst: Path) -> Path:
    """Convert with sox, format from ``dst``'s suffix (.flac, .ogg)."""
    subprocess.run(["sox", str(src), str(dst)], check=True, capture_output=True)
    return dst


def truncate(src: Path, dst: Path, *, keep: float = 0.5) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * keep)])
    return dst


def write_png(path: Path) -> Path:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    pixels = b"".join(b"\x00" + b"\x80\x80\x80" * 4 for _ in range(4))
    header = struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(pixels)) + chunk(b"IEND", b"")
    )
    return path


def write_video_without_audio(path: Path, *, seconds: float = 2.0) -> Path:
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for i in range(int(seconds * 10)):
            frame = av.VideoFrame.from_ndarray(np.full((64, 64, 3), i * 10 % 255, np.uint8), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 10)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path
