"""Spoken numbers, doses, frequencies: pure functions, no pipeline."""

from __future__ import annotations

import pytest

from nlp.dosage import find_frequency, parse_dosage
from nlp.numbers import find_numbers


@pytest.mark.parametrize(
    ("words", "value"),
    [
        ("five hundred", 500),
        ("one thousand", 1000),
        ("fifty thousand", 50000),
        ("twenty five", 25),
        ("zero point four", 0.4),
        ("point five", 0.5),
        ("two and a half", 2.5),
        ("three twenty five", 325),
        ("1,000", 1000),
        ("0.05", 0.05),
    ],
)
def test_spoken_numbers(words: str, value: float) -> None:
    nums = find_numbers(words.split())
    assert len(nums) == 1
    assert nums[0].value == pytest.approx(value)


def test_a_repeated_number_is_two_numbers() -> None:
    assert [n.value for n in find_numbers(["five", "hundred", "five", "hundred", "milligrams"])] == [500, 500]


@pytest.mark.parametrize(
    ("said", "dose", "unit", "frequency"),
    [
        ("five hundred milligrams twice a day", "500", "mg", "twice a day"),
        ("one tab at night", "1", "tab", "at night"),
        ("two puffs every four to six hours as needed", "2", "puff", "every 4 to 6 hours as needed"),
        ("zero point four milligrams once a day", "0.4", "mg", "once a day"),
        ("20mg a day", "20", "mg", "once a day"),
        ("600 mg q.6 h. with food", "600", "mg", "every 6 hours"),
        ("from twenty milligrams to sixty milligrams", "60", "mg", None),
        ("as needed for pain", None, None, "as needed"),
        ("fifty thousand units on sundays", "50000", "unit", "once a week"),
        ("one in the morning and one in the evening", None, None, "twice a day"),
    ],
)
def test_parse_dosage(said: str, dose: str | None, unit: str | None, frequency: str | None) -> None:
    info = parse_dosage(said.split())
    assert (info.dose, info.unit, info.frequency) == (dose, unit, frequency)


def test_route_and_duration() -> None:
    info = parse_dosage(["500", "milligrams", "by", "mouth", "three", "times", "a", "day", "for", "ten", "days"])
    assert info.route == "oral"
    assert info.frequency == "three times a day"
    assert info.duration == "for 10 days"


def test_a_dose_said_before_the_name() -> None:
    info = parse_dosage([], before=["40", "milligrams", "of"])
    assert (info.dose, info.unit) == ("40", "mg")


def test_frequency_far_from_the_drug_is_not_its_own() -> None:
    # "continue the metformin ... check your blood sugars daily": the daily is about the sugars
    info = parse_dosage(["i", "do", "want", "you", "to", "check", "your", "blood", "sugars", "daily"])
    assert info.frequency is None


def test_frequency_codes() -> None:
    assert find_frequency("bid") == "twice a day"
    assert find_frequency("every other day") == "every other day"
    assert find_frequency("once a week") == "once a week"
