"""Object storage for recordings, behind an interface so an S3-compatible store can follow the local one.

`EncryptedStore` is what the domain uses: it seals everything it writes (see core.crypto).
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

from core.crypto import CHUNK_SIZE, KeyWrapper, WrappedKey, open_stream, seal_stream

_KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/_.-]{0,254}$")


class ObjectNotFound(Exception):
    pass


class ObjectStore(Protocol):
    async def put(self, key: str, chunks: AsyncIterator[bytes]) -> int: ...
    def get(self, key: str) -> AsyncIterator[bytes]: ...
    async def delete(self, key: str) -> None: ...
    async def exists(self, key: str) -> bool: ...


class LocalDirectoryStore:
    """Files under one root; writes go to a temporary name and are renamed into place, so readers never see halves."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _path(self, key: str) -> Path:
        if not _KEY_PATTERN.match(key) or ".." in key:
            raise ValueError("invalid object key")
        return self.root / key

    async def put(self, key: str, chunks: AsyncIterator[bytes]) -> int:
        final = self._path(key)
        final.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = final.with_name(f".{final.name}.{os.getpid()}.partial")
        written = 0
        handle = await asyncio.to_thread(open, partial, "wb")
        try:
            async for chunk in chunks:
                await asyncio.to_thread(handle.write, chunk)
                written += len(chunk)
            await asyncio.to_thread(handle.flush)
            await asyncio.to_thread(os.fsync, handle.fileno())
        except BaseException:
            handle.close()
            partial.unlink(missing_ok=True)
            raise
        handle.close()
        await asyncio.to_thread(os.replace, partial, final)
        return written

    async def get(self, key: str) -> AsyncIterator[bytes]:
        path = self._path(key)
        try:
            handle = await asyncio.to_thread(open, path, "rb")
        except FileNotFoundError as exc:
            raise ObjectNotFound(key) from exc
        with handle:
            while chunk := await asyncio.to_thread(handle.read, CHUNK_SIZE):
                yield chunk

    async def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    async def exists(self, key: str) -> bool:
        return self._path(key).exists()


class EncryptedStore:
    def __init__(self, objects: ObjectStore, wrapper: KeyWrapper) -> None:
        self.objects = objects
        self.wrapper = wrapper

    async def put(self, key: str, plaintext: AsyncIterator[bytes]) -> WrappedKey:
        data_key, wrapped = self.wrapper.new_data_key(key)
        await self.objects.put(key, seal_stream(plaintext, data_key, key))
        return wrapped

    async def get(self, key: str, wrapped: WrappedKey) -> AsyncIterator[bytes]:
        data_key = self.wrapper.unwrap(wrapped, key)
        async for chunk in open_stream(self.objects.get(key), data_key, key):
            yield chunk

    async def copy_to_file(self, key: str, wrapped: WrappedKey, path: Path) -> None:
        with path.open("wb") as handle:
            async for chunk in self.get(key, wrapped):
                await asyncio.to_thread(handle.write, chunk)

    async def delete(self, key: str) -> None:
        await self.objects.delete(key)
