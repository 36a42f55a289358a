from __future__ import annotations

import uuid

import pytest

from core.pagination import InvalidCursor, PageRequest, decode_int_cursor, decode_uuid_cursor, encode_cursor
from core.settings import Settings


def test_production_refuses_to_start_without_explicit_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMBIENT_ENVIRONMENT", "production")
    with pytest.raises(ValueError, match="AMBIENT_STORAGE__MASTER_KEY"):
        Settings()


def test_nested_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMBIENT_LLM__BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("AMBIENT_API__MAX_UPLOAD_BYTES", "1234")
    monkeypatch.setenv("AMBIENT_DATABASE_URL", "postgresql://u@h/db")
    settings = Settings()
    assert settings.llm.base_url == "http://127.0.0.1:9/v1"
    assert settings.api.max_upload_bytes == 1234
    assert settings.database_url is not None and settings.database_url.get_secret_value() == "postgresql://u@h/db"


def test_cursors_round_trip_and_reject_garbage() -> None:
    key = uuid.uuid4()
    assert decode_uuid_cursor(encode_cursor(key)) == key
    assert decode_int_cursor(encode_cursor(42)) == 42
    for garbage in ("", "!!!", encode_cursor(42)):
        with pytest.raises(InvalidCursor):
            decode_uuid_cursor(garbage)
    with pytest.raises(InvalidCursor):
        PageRequest.clamp(-1, default=20, maximum=100)
    assert PageRequest.clamp(10_000, default=20, maximum=100) == 100
