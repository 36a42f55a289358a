"""Envelope encryption for stored audio: AES-256-GCM, a fresh key per object, wrapped by the master key.

Objects are sealed in fixed-size chunks so a 512 MB recording never sits in memory. Each chunk's
nonce is a random 7-byte prefix + a 4-byte counter + a final-chunk flag, and the associated data
binds the chunk to its object id, so chunks cannot be reordered, truncated, or moved to another object.
"""

from __future__ import annotations

import os
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"AMB1"
CHUNK_SIZE = 1024 * 1024
TAG_SIZE = 16
_HEADER = struct.Struct(">4sI7s")  # magic, chunk size, nonce prefix


class DecryptionError(Exception):
    """The ciphertext, key or associated data does not authenticate."""


@dataclass(frozen=True)
class WrappedKey:
    key_id: str
    nonce: bytes
    ciphertext: bytes


class KeyWrapper:
    def __init__(self, master_key: bytes, key_id: str) -> None:
        if len(master_key) != 32:
            raise ValueError("master key must be 32 bytes")
        self._aead = AESGCM(master_key)
        self.key_id = key_id

    def new_data_key(self, object_id: str) -> tuple[bytes, WrappedKey]:
        data_key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(12)
        wrapped = self._aead.encrypt(nonce, data_key, object_id.encode())
        return data_key, WrappedKey(self.key_id, nonce, wrapped)

    def unwrap(self, wrapped: WrappedKey, object_id: str) -> bytes:
        if wrapped.key_id != self.key_id:
            raise DecryptionError("object was sealed under another master key id")
        try:
            return self._aead.decrypt(wrapped.nonce, wrapped.ciphertext, object_id.encode())
        except InvalidTag as exc:
            raise DecryptionError("wrapped key does not authenticate") from exc


def _nonce(prefix: bytes, counter: int, final: bool) -> bytes:
    return prefix + struct.pack(">IB", counter, 1 if final else 0)


class ChunkSealer:
    """Encrypts a stream chunk by chunk; call `seal(data, final=...)` with exactly CHUNK_SIZE bytes until the last."""

    def __init__(self, data_key: bytes, object_id: str, chunk_size: int = CHUNK_SIZE) -> None:
        self._aead = AESGCM(data_key)
        self._aad = object_id.encode()
        self._prefix = os.urandom(7)
        self._counter = 0
        self.chunk_size = chunk_size

    def header(self) -> bytes:
        return _HEADER.pack(MAGIC, self.chunk_size, self._prefix)

    def seal(self, plaintext: bytes, *, final: bool) -> bytes:
        nonce = _nonce(self._prefix, self._counter, final)
        self._counter += 1
        return self._aead.encrypt(nonce, plaintext, self._aad)


async def seal_stream(
    plaintext_chunks: AsyncIterator[bytes], data_key: bytes, object_id: str, chunk_size: int = CHUNK_SIZE
) -> AsyncIterator[bytes]:
    """Re-chunks arbitrary input into sealed fixed-size chunks, the last one flagged final (possibly empty)."""
    sealer = ChunkSealer(data_key, object_id, chunk_size)
    yield sealer.header()
    buffer = bytearray()
    async for piece in plaintext_chunks:
        buffer += piece
        while len(buffer) > chunk_size:  # keep at least one byte back so the final chunk is never absent
            yield sealer.seal(bytes(buffer[:chunk_size]), final=False)
            del buffer[:chunk_size]
    yield sealer.seal(bytes(buffer), final=True)


async def open_stream(sealed_chunks: AsyncIterator[bytes], data_key: bytes, object_id: str) -> AsyncIterator[bytes]:
    """Decrypts what `seal_stream` produced; raises DecryptionError on any tampering or truncation."""
    aead = AESGCM(data_key)
    aad = object_id.encode()
    buffer = bytearray()
    source = aiter(sealed_chunks)
    async for piece in source:
        buffer += piece
        if len(buffer) >= _HEADER.size:
            break
    if len(buffer) < _HEADER.size:
        raise DecryptionError("sealed object is truncated")
    magic, chunk_size, prefix = _HEADER.unpack(bytes(buffer[: _HEADER.size]))
    if magic != MAGIC:
        raise DecryptionError("not a sealed object")
    del buffer[: _HEADER.size]
    sealed_size = chunk_size + TAG_SIZE
    counter = 0
    exhausted = False
    while True:
        while len(buffer) <= sealed_size and not exhausted:
            try:
                buffer += await anext(source)
            except StopAsyncIteration:
                exhausted = True
        final = exhausted and len(buffer) <= sealed_size
        take = len(buffer) if final else sealed_size
        try:
            yield aead.decrypt(_nonce(prefix, counter, final), bytes(buffer[:take]), aad)
        except InvalidTag as exc:
            raise DecryptionError("sealed object does not authenticate") from exc
        del buffer[:take]
        counter += 1
        if final:
            return
