"""Development secrets generated once into $AMBIENT_HOME/secrets (mode 0600).

Production never reaches this: `Settings` refuses to start without explicit secrets there.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from core.settings import Settings


def _read_or_create(path: Path, nbytes: int) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return base64.b64decode(path.read_text().strip())
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.b64encode(secrets.token_bytes(nbytes)).decode())
    return base64.b64decode(path.read_text().strip())


def dev_jwt_secret(settings: Settings) -> bytes:
    return _read_or_create(settings.home_path("secrets", "jwt-hs256.key"), 48)


def master_key(settings: Settings) -> bytes:
    """The key-encryption key for recordings: explicit setting, else (development) a generated file."""
    configured = settings.storage.master_key
    if configured is not None:
        key = base64.b64decode(configured.get_secret_value())
    elif settings.development:
        key = _read_or_create(settings.home_path("secrets", "master.key"), 32)
    else:  # Settings validation already refuses this; keep the guard local too.
        raise RuntimeError("AMBIENT_STORAGE__MASTER_KEY is required outside development")
    if len(key) != 32:
        raise ValueError("the storage master key must be 32 bytes (base64-encoded)")
    return key
