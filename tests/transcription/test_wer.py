"""The WER normalisation: formatting choices must not count as recognition errors."""

from __future__ import annotations

import pytest

from transcription.wer import normalize, number_to_words, word_error_rate


@pytest.mark.parametrize(
    ("reference", "hypothesis"),
    [
        ("Take metformin 500 mg twice a day.", "take metformin five hundred milligrams twice a day"),
        ("I'm fine, it's nothing.", "I am fine. It is nothing!"),
        ("We can't stop; don't worry.", "we cannot stop, do not worry"),
        ("BP 138/86", "bp one hundred thirty eight eighty six"),
        ("Take 2.5 mg at 8:00 a.m.", "take two point five milligrams at 8 am"),
        ("Her 2nd visit, 1,250 steps, 12%", "her second visit one thousand two hundred fifty steps twelve percent"),
        ("twenty-five", "twenty five"),
        ("Levothyroxine 75mcg", "levothyroxine 75 micrograms"),
        ("\u201cHe\u2019s here\u201d", "he is here"),
    ],
)
def test_equivalent_forms_score_zero(reference: str, hypothesis: str) -> None:
    assert word_error_rate(reference, hypothesis) == 0.0


def test_counts_substitutions_deletions_insertions() -> None:
    assert word_error_rate("a b c d", "a x c") == pytest.approx(2 / 4)  # one substitution, one deletion
    assert word_error_rate("a b", "a b c d") == pytest.approx(2 / 2)  # two insertions
    assert word_error_rate("metformin", "meth for men") == pytest.approx(3.0)


def test_empty_texts() -> None:
    assert word_error_rate("", "") == 0.0
    assert word_error_rate("", "hello") == 1.0
    assert word_error_rate("hello there", "") == 1.0


def test_number_words() -> None:
    assert number_to_words(0) == "zero"
    assert number_to_words(105) == "one hundred five"
    assert number_to_words(2024) == "two thousand twenty four"
    assert number_to_words(1_000_001) == "one million one"


def test_normalize_keeps_drug_names_whole() -> None:
    assert normalize("Atorvastatin, 20 mg.") == ["atorvastatin", "twenty", "milligrams"]
