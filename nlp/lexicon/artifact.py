"""The compact vocabulary artifact: located in a cache directory, built once (in a subprocess), loaded fast.

The file name carries a hash of everything that shapes its content: the vocabulary package versions, the
spaCy version (its tokenizer splits the terms) and the source of the curated tables and of the builder.
Changing any of them gives a new file; stale ones are removed after a successful build.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

_PACKAGES = ("simple-icd-10-cm", "drug-named-entity-recognition", "spacy")
_SOURCE_FILES = ("anatomy.py", "build.py", "drugs_common.py", "lay_terms.py", "norm.py")
_PREFIX = "vocabulary-"
_BUILD_TIMEOUT_S = 600


class VocabularyBuildError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class DrugConcept:
    generic: str
    drugbank_id: str | None
    mesh_id: str | None
    rank: int  # position in the curated common-drug list; larger = rarer


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """Read-only lookup tables. Term keys are `norm_key` strings."""

    problem_concepts: tuple[tuple[str, str], ...]  # (ICD-10-CM code, description)
    problem_terms: dict[str, int]
    drug_concepts: tuple[DrugConcept, ...]
    drug_terms: dict[str, tuple[int, bool]]  # key -> (concept index, said as a brand)
    site_codes: dict[str, str]  # "pain|knee|right" -> code
    descriptions: dict[str, str]  # ICD-10-CM code -> description, for every code the engine can emit
    term_labels: dict[str, str]  # term key -> the name of its problem ("dizzy" -> "dizziness")
    sha256: str  # of the artifact file: part of the ruleset version

    @property
    def max_term_tokens(self) -> int:
        return max(
            max((k.count(" ") + 1 for k in self.problem_terms), default=1),
            max((k.count(" ") + 1 for k in self.drug_terms), default=1),
        )


def default_cache_dir() -> Path:
    home = os.environ.get("AMBIENT_HOME")
    base = Path(home) if home else Path.cwd() / ".ambient"
    return base / "cache" / "nlp"


def _source_digest() -> str:
    h = hashlib.sha256()
    here = Path(__file__).parent
    for name in _SOURCE_FILES:
        h.update(name.encode())
        h.update((here / name).read_bytes())
    return h.hexdigest()


def artifact_key() -> dict[str, str]:
    key = {"sources": _source_digest()}
    for pkg in _PACKAGES:
        try:
            key[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            key[pkg] = "missing"
    return key


def artifact_path(cache_dir: Path | None = None) -> Path:
    key = artifact_key()
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return (cache_dir or default_cache_dir()) / f"{_PREFIX}{digest}.json.gz"


def build_artifact(path: Path) -> None:
    """Build in a child process so the ~375 MB drug dictionary never lives in the caller's memory."""
    cmd = [sys.executable, "-m", "nlp.lexicon.build", str(path), json.dumps(artifact_key(), sort_keys=True)]
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    proc = subprocess.run(  # noqa: S603 - fixed argv: this interpreter and our own module
        cmd, capture_output=True, text=True, timeout=_BUILD_TIMEOUT_S, env=env, check=False
    )
    if proc.returncode != 0 or not path.exists():
        raise VocabularyBuildError(f"vocabulary build failed (exit {proc.returncode}): {proc.stderr[-2000:]}")
    for old in path.parent.glob(f"{_PREFIX}*.json.gz"):
        if old != path:
            old.unlink(missing_ok=True)


def _read(path: Path) -> dict[str, Any]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def cached_artifact(cache_dir: Path | None = None) -> Path | None:
    """The current artifact if it has been built, without building it."""
    path = artifact_path(cache_dir)
    return path if path.exists() else None


def load_vocabulary(cache_dir: Path | None = None) -> Vocabulary:
    path = artifact_path(cache_dir)
    if not path.exists():
        build_artifact(path)
    data = _read(path)
    drugs = tuple(DrugConcept(g, db, mesh, int(rank)) for g, db, mesh, rank in data["drug_concepts"])
    problems = tuple((str(c), str(d)) for c, d in data["problem_concepts"])
    descriptions = {str(k): str(v) for k, v in data["descriptions"].items()}
    descriptions.update(problems)
    return Vocabulary(
        problem_concepts=problems,
        problem_terms=data["problem_terms"],
        drug_concepts=drugs,
        drug_terms={k: (v[0], bool(v[1])) for k, v in data["drug_terms"].items()},
        site_codes=data["site_codes"],
        descriptions=descriptions,
        term_labels=data["term_labels"],
        sha256=file_sha256(path),
    )
