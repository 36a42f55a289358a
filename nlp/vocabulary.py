"""The medication vocabulary for ASR biasing, without spaCy: `medication_hotwords(limit)`.

Commonly prescribed drugs come first (generic, then the brands people say), from the curated table; when
more are asked for and the vocabulary artifact is already built, the rest of its drug names follow.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from nlp.lexicon.artifact import cached_artifact
from nlp.lexicon.drugs_common import COMMON_DRUGS

# Names that are poor hotwords: long chemical names are never said, and very short ones bias ASR too much.
_MIN_LEN, _MAX_WORDS = 4, 2


def _curated() -> list[str]:
    """Each common drug's generic and best-known brand, in rank order; then their other brands."""
    first = [(generic, *brands[:1]) for generic, brands in COMMON_DRUGS]
    rest = [brands[1:] for _, brands in COMMON_DRUGS]
    out: list[str] = []
    for group in (*first, *rest):
        for name in group:
            if len(name) >= _MIN_LEN and len(name.split()) <= _MAX_WORDS and name not in out:
                out.append(name)
    return out


def _from_artifact(cache_dir: Path | None) -> list[str]:
    path = cached_artifact(cache_dir)
    if path is None:
        return []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        data = json.load(f)
    concepts = data["drug_concepts"]
    names = sorted(
        ((int(c[3]), str(c[0])) for c in concepts if str(c[0]).replace("-", "").isalpha()),
        key=lambda rc: (rc[0], rc[1]),
    )
    return [n for _, n in names if len(n) >= _MIN_LEN and len(n.split()) <= _MAX_WORDS]


def medication_hotwords(limit: int = 100, cache_dir: Path | None = None) -> list[str]:
    """Up to `limit` drug names, most commonly prescribed first. Deterministic; reads no more than needed."""
    if limit <= 0:
        return []
    words = _curated()
    if len(words) < limit:
        seen = set(words)
        for name in _from_artifact(cache_dir):
            if name not in seen:
                seen.add(name)
                words.append(name)
                if len(words) >= limit:
                    break
    return words[:limit]
