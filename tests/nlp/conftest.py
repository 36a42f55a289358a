"""One engine per test session. The vocabulary artifact is cached under the repository's .ambient/ (ignored
by git), so only the first run pays the ~10 s build."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlp.engine import ClinicalNlp

REPO_ROOT = Path(__file__).resolve().parents[2]
NLP_CACHE = REPO_ROOT / ".ambient" / "cache" / "nlp"


@pytest.fixture(scope="session")
def nlp_cache() -> Path:
    return NLP_CACHE


@pytest.fixture(scope="session")
def engine(nlp_cache: Path) -> ClinicalNlp:
    return ClinicalNlp.load(nlp_cache)
