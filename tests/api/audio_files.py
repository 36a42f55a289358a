"""Synthetic audio for upload tests (tones, not speech: these tests are about storage and validation)."""

from __future__ import annotations

import io
import math
import struct
import wave


def tone_wav(seconds: float, *, rate: int = 16_000, channels: int = 1, frequency: float = 440.0) -> bytes:
    frames = int(seconds * rate)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        samples = bytearray()
        for i in range(frames):
            value = int(8000 * math.sin(2 * math.pi * frequency * i / rate))
            samples += struct.pack("<h", value) * channels
        out.writeframes(bytes(samples))
    return buffer.getvalue()
