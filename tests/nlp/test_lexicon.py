"""Vocabularies: lay forms to ICD-10-CM, brands to generics, the artifact cache, hotwords."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlp.engine import ClinicalNlp
from nlp.lexicon.artifact import artifact_path, load_vocabulary
from nlp.lexicon.lay_terms import LAY_PROBLEMS
from nlp.vocabulary import medication_hotwords


@pytest.mark.parametrize(
    ("said", "code"),
    [
        ("i have high blood pressure", "I10"),
        ("he had a heart attack last year", "I21.9"),
        ("i get short of breath on the stairs", "R06.02"),
        ("my sugar diabetes is acting up", "E11.9"),
        ("she has hypothyroidism", "E03.9"),
        ("i've been having migraines", "G43.909"),
        ("pain in my right knee", "M25.561"),
        ("burning when i pee", "R30.0"),
    ],
)
def test_lay_forms_map_to_icd10(engine: ClinicalNlp, said: str, code: str) -> None:
    codes = {p.code.code for p in engine.extract_text(said).problems if p.code}
    assert code in codes


def test_every_curated_code_exists_in_icd10cm() -> None:
    import simple_icd_10_cm as icd

    unknown = sorted({code for _, code in LAY_PROBLEMS if not icd.is_valid_item(code)})
    assert unknown == []


@pytest.mark.parametrize(
    ("said", "generic"),
    [("lasix", "furosemide"), ("tylenol", "acetaminophen"), ("norvasc", "amlodipine"), ("zoloft", "sertraline")],
)
def test_brand_to_generic(engine: ClinicalNlp, said: str, generic: str) -> None:
    (med,) = engine.extract_text(f"i take {said}").medications
    assert med.name == generic
    assert med.brand
    assert {c.system for c in med.codes} >= {"DrugBank"}


def test_lab_words_are_not_medications(engine: ClinicalNlp) -> None:
    assert engine.extract_text("we checked your estradiol and your testosterone levels").medications == ()


def test_artifact_is_cached_and_reloads(nlp_cache: Path, engine: ClinicalNlp) -> None:
    path = artifact_path(nlp_cache)
    assert path.exists()
    again = load_vocabulary(nlp_cache)
    assert again.sha256 == engine.vocabulary.sha256
    assert engine.ruleset_version.startswith("ambient-nlp-rules-")


def test_hotwords_rank_common_drugs_first(nlp_cache: Path) -> None:
    top = medication_hotwords(10, cache_dir=nlp_cache)
    assert len(top) == 10
    assert top[:4] == ["atorvastatin", "lipitor", "levothyroxine", "synthroid"]
    many = medication_hotwords(600, cache_dir=nlp_cache)
    assert len(many) == 600 and len(set(many)) == 600
    assert medication_hotwords(0) == []
