from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.crypto import CHUNK_SIZE, DecryptionError, KeyWrapper
from core.storage import EncryptedStore, LocalDirectoryStore, ObjectNotFound


async def _chunks(data: bytes, size: int = 70_000) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def _store(tmp_path: Path) -> EncryptedStore:
    return EncryptedStore(LocalDirectoryStore(tmp_path), KeyWrapper(os.urandom(32), "k1"))


async def _read(store: EncryptedStore, key: str, wrapped) -> bytes:  # type: ignore[no-untyped-def]
    return b"".join([chunk async for chunk in store.get(key, wrapped)])


@pytest.mark.parametrize("size", [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE + 17])
async def test_round_trip_at_chunk_boundaries(tmp_path: Path, size: int) -> None:
    store = _store(tmp_path)
    data = os.urandom(size)
    wrapped = await store.put("r/a", _chunks(data))
    assert await _read(store, "r/a", wrapped) == data
    assert data[:64] not in (tmp_path / "r/a").read_bytes() or size < 16


async def test_tampering_truncation_and_swapping_are_detected(tmp_path: Path) -> None:
    store = _store(tmp_path)
    data = os.urandom(2 * CHUNK_SIZE + 100)
    wrapped_a = await store.put("r/a", _chunks(data))
    wrapped_b = await store.put("r/b", _chunks(data))
    path = tmp_path / "r/a"
    sealed = path.read_bytes()

    path.write_bytes(sealed[:-1])  # truncated tail
    with pytest.raises(DecryptionError):
        await _read(store, "r/a", wrapped_a)
    header_and_first = 15 + CHUNK_SIZE + 16
    path.write_bytes(sealed[:header_and_first])  # whole chunks dropped: the last one is not flagged final
    with pytest.raises(DecryptionError):
        await _read(store, "r/a", wrapped_a)
    flipped = bytearray(sealed)
    flipped[100] ^= 1
    path.write_bytes(bytes(flipped))
    with pytest.raises(DecryptionError):
        await _read(store, "r/a", wrapped_a)
    path.write_bytes(sealed)
    with pytest.raises(DecryptionError):  # another object's key does not open it
        await _read(store, "r/a", wrapped_b)


async def test_another_master_key_cannot_unwrap(tmp_path: Path) -> None:
    store = _store(tmp_path)
    wrapped = await store.put("r/a", _chunks(b"audio"))
    other = EncryptedStore(LocalDirectoryStore(tmp_path), KeyWrapper(os.urandom(32), "k1"))
    with pytest.raises(DecryptionError):
        await _read(other, "r/a", wrapped)


async def test_keys_cannot_escape_the_root_and_missing_objects_are_typed(tmp_path: Path) -> None:
    objects = LocalDirectoryStore(tmp_path / "root")
    with pytest.raises(ValueError):
        await objects.put("../escape", _chunks(b"x"))
    with pytest.raises(ObjectNotFound):
        [chunk async for chunk in objects.get("absent")]
