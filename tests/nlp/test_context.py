"""Problems with ConText: negation, family, history, hypothetical, and scope that stops at a clause."""

from __future__ import annotations

from nlp.engine import ClinicalNlp
from nlp.types import Passage, ProblemFinding


def _problems(engine: ClinicalNlp, text: str) -> dict[str, ProblemFinding]:
    return {p.label: p for p in engine.extract_text(text).problems}


def test_plain_negation(engine: ClinicalNlp) -> None:
    found = _problems(engine, "No chest pain.")
    assert found["chest pain"].negated


def test_denies_covers_a_list(engine: ClinicalNlp) -> None:
    found = _problems(engine, "She denies fever or chills.")
    assert found["fever"].negated
    assert found["chills"].negated


def test_negation_does_not_leak_across_clauses(engine: ClinicalNlp) -> None:
    found = _problems(engine, "no fever, my knee hurts")
    assert found["fever"].negated
    knee = found["knee pain"]
    assert not knee.negated


def test_negation_stops_at_a_pronoun_in_an_unpunctuated_transcript(engine: ClinicalNlp) -> None:
    found = _problems(engine, "no rales no wheezing on your heart exam you do have a systolic ejection murmur")
    assert found["crackles"].negated and found["wheezing"].negated
    assert not found["murmur"].negated


def test_family_history(engine: ClinicalNlp) -> None:
    found = _problems(engine, "my mother had breast cancer")
    assert found["breast cancer"].family


def test_family_history_list(engine: ClinicalNlp) -> None:
    text = "for family history, it looks like there's high blood pressure, diabetes, heart disease and kidney disease."
    found = _problems(engine, text)
    assert all(found[k].family for k in ("high blood pressure", "diabetes", "heart disease", "kidney disease"))


def test_family_scope_ends_when_the_patient_speaks_of_themself(engine: ClinicalNlp) -> None:
    found = _problems(engine, "my father had a heart attack and i have asthma")
    assert found["heart attack"].family
    assert not found["asthma"].family


def test_history(engine: ClinicalNlp) -> None:
    found = _problems(engine, "she has a history of congestive heart failure")
    assert found["congestive heart failure"].historical
    assert not found["congestive heart failure"].negated


def test_hypothetical(engine: ClinicalNlp) -> None:
    found = _problems(engine, "if you get a fever, call me.")
    assert found["fever"].hypothetical
    assert not found["fever"].negated


def test_hedged_is_uncertain(engine: ClinicalNlp) -> None:
    found = _problems(engine, "i'm concerned you might have pneumonia")
    assert found["pneumonia"].uncertain


def test_negated_lab_value(engine: ClinicalNlp) -> None:
    found = _problems(engine, "your white blood cell count is not elevated, which is good")
    assert found["elevated white blood cell count"].negated


def test_question_answered_no_denies_everything_asked(engine: ClinicalNlp) -> None:
    passages = [
        Passage("q", "Have you had any fever or chills?", "doctor"),
        Passage("a", "No, not at all.", "patient"),
    ]
    found = {p.label: p for p in engine.extract(passages).problems}
    assert found["fever"].negated and found["chills"].negated


def test_question_never_answered_is_neither(engine: ClinicalNlp) -> None:
    passages = [
        Passage("q", "Any nausea or vomiting?", "doctor"),
        Passage("a", "Well, my knee has been bothering me.", "patient"),
    ]
    found = {p.label: p for p in engine.extract(passages).problems}
    assert found["nausea"].asked and not found["nausea"].negated


def test_a_yes_to_a_single_question_affirms_it(engine: ClinicalNlp) -> None:
    passages = [Passage("q", "Any shortness of breath?", "doctor"), Passage("a", "Yes.", "patient")]
    (sob,) = engine.extract(passages).problems
    assert not sob.negated and not sob.asked


def test_tag_question_is_not_a_question(engine: ClinicalNlp) -> None:
    passages = [
        Passage("q", "On your knee exam there is some swelling of the right knee, okay?", "doctor"),
        Passage("a", "Okay.", "patient"),
    ]
    (swelling,) = engine.extract(passages).problems
    assert not swelling.asked and not swelling.negated


def test_mono_speech_run_on_asks_only_from_the_question_onward(engine: ClinicalNlp) -> None:
    # One speech-recognition segment holding the patient's answer and the clinician's next question.
    passages = [
        Passage("s", "I have had a headache for three days, no fever, are you taking any medicines?", "unknown"),
        Passage("r", "Just lisinopril.", "unknown"),
    ]
    found = {p.label: p for p in engine.extract(passages).problems}
    assert not found["headache"].asked and not found["headache"].negated
    assert found["fever"].negated


def test_mono_speech_question_listing_symptoms_still_asks_them_all(engine: ClinicalNlp) -> None:
    passages = [Passage("q", "Any nausea, vomiting, or diarrhea?", "unknown"), Passage("a", "No.", "unknown")]
    found = {p.label: p for p in engine.extract(passages).problems}
    assert all(found[name].negated for name in ("nausea", "vomiting", "diarrhea"))
