"""Time-ordered UUIDs (version 7): index-friendly and usable as a stable pagination order."""

from __future__ import annotations

import os
import time
import uuid

_48_BITS = (1 << 48) - 1
_62_BITS = (1 << 62) - 1


def new_id() -> uuid.UUID:
    unix_ms = time.time_ns() // 1_000_000
    rand_a = int.from_bytes(os.urandom(2), "big") & 0xFFF
    rand_b = int.from_bytes(os.urandom(8), "big") & _62_BITS
    value = (unix_ms & _48_BITS) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    return uuid.UUID(int=value)
