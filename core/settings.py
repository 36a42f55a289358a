"""All configuration, read once from the environment (`AMBIENT_` prefix, `__` between nested sections).

`Settings()` is built by the entry point and passed down; nothing reads the environment elsewhere.
Outside development the settings refuse generated or default secrets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIB = 1024 * 1024


class DatabaseSettings(BaseModel):
    pool_size: int = Field(10, ge=1, description="asyncpg connections kept open per process")
    max_overflow: int = Field(10, ge=0)
    pool_timeout_s: float = Field(10.0, gt=0, description="wait for a free connection before failing")
    pool_recycle_s: float = Field(
        3_600.0, description="replace pooled connections older (read pool: idle longer) than this; -1 = never"
    )
    statement_timeout_ms: int = Field(30_000, ge=0, description="server-side cap per statement; 0 = none")
    # The read pool (core.db.Database.acquire) lends a connection per statement (~0.1-1 ms), so a few
    # serve a process at any load; more than the cores PostgreSQL has would only add contention there.
    read_pool_size: int = Field(8, ge=1, description="connections of the read pool (hot reads, audit appends)")
    statement_cache_size: int = Field(256, ge=0, description="prepared statements kept per read connection")
    # PostgreSQL re-plans a prepared statement on every execution while it estimates the generic plan
    # as costlier; for `id = ANY($1)` look-ups it always did, which doubled its CPU per query (~170 vs
    # ~85 µs measured). The read pool runs only such look-ups, whose best plan does not depend on the
    # values, so it asks for the generic plan from the start.
    read_generic_plans: bool = Field(True, description="plan_cache_mode=force_generic_plan on the read pool")
    jit: bool = Field(False, description="PostgreSQL JIT for our sessions (off: our queries are short)")
    embedded_database: str = Field("ambient", pattern=r"^[a-z_][a-z0-9_]{0,62}$")


class StorageSettings(BaseModel):
    backend: Literal["local"] = "local"
    directory: Path | None = Field(None, description="object store root; default $AMBIENT_HOME/objects")
    master_key: SecretStr | None = Field(
        None, description="base64 of 32 bytes wrapping every recording key; generated in development"
    )
    master_key_id: str = Field("k1", description="stored beside each wrapped key, for rotation")


class AuthSettings(BaseModel):
    dev_token_ttl_minutes: int = Field(12 * 60, ge=1)
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks_url: str | None = Field(None, description="default: <issuer>/.well-known/jwks.json")
    oidc_algorithms: list[str] = ["RS256", "ES256"]
    oidc_email_claim: str = "email"
    leeway_s: int = Field(30, ge=0)


class ApiSettings(BaseModel):
    max_upload_bytes: int = Field(512 * MIB, ge=1)
    max_recording_seconds: float = Field(3 * 3600.0, gt=0)
    max_request_bytes: int = Field(1 * MIB, ge=1024, description="limit for non-multipart requests")
    max_query_depth: int = Field(10, ge=2)
    max_query_tokens: int = Field(2_000, ge=50)
    max_aliases: int = Field(15, ge=1)
    max_query_cost: int = Field(
        10_000, ge=1, description="fields, each counted once per item of the pages (`first`) above it"
    )
    default_page_size: int = Field(20, ge=1)
    max_page_size: int = Field(100, ge=1)
    cors_origins: list[str] = []
    max_subscriptions_per_connection: int = Field(20, ge=1)
    subscriber_queue_size: int = Field(256, ge=8, description="events buffered per subscriber before it must resync")


class TranscriptionSettings(BaseModel):
    model: str = "tiny.en"
    device: str = "cpu"
    compute_type: str = "int8"
    cpu_threads: int = Field(1, ge=1)
    beam_size: int = Field(5, ge=1)
    hotwords: int = Field(40, ge=0, description="medication names passed to whisper as hotwords")


class NlpSettings(BaseModel):
    cache_dir: Path | None = Field(None, description="vocabulary artifact cache; default $AMBIENT_HOME/cache/nlp")


class LlmSettings(BaseModel):
    base_url: str | None = Field(None, description="any OpenAI-compatible endpoint; unset = local server")
    model: str | None = None
    api_key: SecretStr | None = None
    timeout_s: float = Field(120.0, gt=0)
    max_retries: int = Field(2, ge=0)
    local_model: str = Field("auto", description="bundled GGUF for the local server: auto, qwen2.5-1.5b, smollm2")
    server_dir: Path | None = Field(
        None, description="a directory with a llama-server built elsewhere; unset = the one `ambient llm build` made"
    )
    enabled: bool = Field(True, description="false = the deterministic drafter only")


class WorkerSettings(BaseModel):
    in_process: bool = Field(True, description="`ambient serve` runs one worker inside the server")
    concurrency: int = Field(1, ge=1)
    heartbeat_s: float = Field(5.0, gt=0)
    stalled_after_s: float = Field(20.0, gt=0, description="a worker silent this long is presumed dead")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="AMBIENT_", env_nested_delimiter="__", extra="ignore", validate_default=True
    )

    environment: Literal["development", "production"] = "development"
    home: Path = Path(".ambient")
    database_url: SecretStr | None = Field(
        None, description="postgresql://…; unset = an embedded PostgreSQL under $AMBIENT_HOME/pgdata"
    )
    log_level: str = "INFO"
    bench_timings: bool = Field(
        False, description="bench/api.py only: report authorization and CPU time in a response header"
    )

    database: DatabaseSettings = DatabaseSettings()
    storage: StorageSettings = StorageSettings()
    auth: AuthSettings = AuthSettings()
    api: ApiSettings = ApiSettings()
    transcription: TranscriptionSettings = TranscriptionSettings()
    nlp: NlpSettings = NlpSettings()
    llm: LlmSettings = LlmSettings()
    worker: WorkerSettings = WorkerSettings()

    @property
    def development(self) -> bool:
        return self.environment == "development"

    @model_validator(mode="after")
    def _refuse_defaults_outside_development(self) -> Settings:
        if self.development:
            return self
        missing = []
        if self.database_url is None:
            missing.append("AMBIENT_DATABASE_URL")
        if self.storage.master_key is None:
            missing.append("AMBIENT_STORAGE__MASTER_KEY")
        if not (self.auth.oidc_issuer and self.auth.oidc_audience):
            missing.append("AMBIENT_AUTH__OIDC_ISSUER and AMBIENT_AUTH__OIDC_AUDIENCE")
        if missing:
            raise ValueError("production requires explicit settings: " + ", ".join(missing))
        return self

    def home_path(self, *parts: str) -> Path:
        return self.home.resolve().joinpath(*parts)
