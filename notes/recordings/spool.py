"""Receiving an upload: bytes go to a private temporary file while we count and hash them."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

from core.crypto import CHUNK_SIZE


class TooLarge(Exception):
    pass


@dataclass(frozen=True)
class SpooledFile:
    path: Path
    sha256: str
    byte_size: int


@contextlib.contextmanager
def private_tempfile(directory: Path, suffix: str = ".upload") -> Iterator[Path]:
    """A 0600 file that is removed when the block ends, whatever happens: plaintext audio never lingers."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, name = tempfile.mkstemp(dir=directory, suffix=suffix)
    os.close(fd)
    path = Path(name)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


async def spool(chunks: AsyncIterator[bytes], path: Path, *, max_bytes: int) -> SpooledFile:
    digest = hashlib.sha256()
    size = 0
    with path.open("wb") as handle:
        async for chunk in chunks:
            size += len(chunk)
            if size > max_bytes:
                raise TooLarge()
            digest.update(chunk)
            await asyncio.to_thread(handle.write, chunk)
    return SpooledFile(path, digest.hexdigest(), size)


async def read_file(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as handle:
        while chunk := await asyncio.to_thread(handle.read, CHUNK_SIZE):
            yield chunk
