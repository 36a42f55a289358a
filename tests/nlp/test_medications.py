"""Medications: spoken doses, frequency, status, allergies, evidence offsets."""

from __future__ import annotations

from nlp.engine import ClinicalNlp
from nlp.summary import summarize_medications
from nlp.types import MedicationFinding, Passage


def _med(engine: ClinicalNlp, text: str, name: str) -> MedicationFinding:
    return next(m for m in engine.extract_text(text).medications if m.name == name)


def test_spoken_dose_and_frequency(engine: ClinicalNlp) -> None:
    m = _med(engine, "let's start metformin five hundred milligrams twice a day", "metformin")
    assert (m.dose, m.unit, m.frequency, m.status) == ("500", "mg", "twice a day", "started")


def test_one_tab_at_night(engine: ClinicalNlp) -> None:
    m = _med(engine, "take the trazodone, one tab at night", "trazodone")
    assert (m.dose, m.unit, m.frequency) == ("1", "tab", "at night")


def test_as_needed(engine: ClinicalNlp) -> None:
    m = _med(engine, "you can take some ibuprofen as needed", "ibuprofen")
    assert m.frequency == "as needed"


def test_statuses(engine: ClinicalNlp) -> None:
    text = "i'm going to stop the norvasc and put you on some hydrochlorothiazide ten milligrams once a day."
    meds = {m.name: m for m in engine.extract_text(text).medications}
    assert meds["amlodipine"].status == "stopped" and not meds["amlodipine"].historical
    assert meds["hydrochlorothiazide"].status == "started"
    assert (meds["hydrochlorothiazide"].dose, meds["hydrochlorothiazide"].unit) == ("10", "mg")
    assert _med(engine, "we'll increase the lisinopril to forty milligrams", "lisinopril").status == "changed"
    assert _med(engine, "continue the lipitor forty milligrams a day", "atorvastatin").status == "taking"


def test_past_medication_is_historical(engine: ClinicalNlp) -> None:
    m = _med(engine, "i used to take prozac but i stopped", "fluoxetine")
    assert m.status == "stopped" and m.historical


def test_conditional_prescription(engine: ClinicalNlp) -> None:
    m = _med(engine, "if the strep test is positive we'll start amoxicillin", "amoxicillin")
    assert m.status == "conditional"


def test_allergy_is_not_a_medication(engine: ClinicalNlp) -> None:
    meds = engine.extract_text("i'm allergic to percocet and vicodin").medications
    assert meds and all(m.allergy for m in meds)
    assert summarize_medications(meds) == []


def test_drug_to_avoid_is_negated(engine: ClinicalNlp) -> None:
    m = _med(engine, "with your kidneys you should avoid ibuprofen", "ibuprofen")
    assert m.negated


def test_a_drug_taken_back_is_dropped(engine: ClinicalNlp) -> None:
    names = {
        m.name for m in engine.extract_text("we'll treat you with penicillin or, i'm sorry, amoxicillin").medications
    }
    assert names == {"amoxicillin"}


def test_reply_about_a_drug(engine: ClinicalNlp) -> None:
    passages = [
        Passage("d", "And are you taking your metformin?", "doctor"),
        Passage("p", "Yes, morning and night.", "patient"),
    ]
    (m,) = engine.extract(passages).medications
    assert m.frequency == "twice a day" and not m.negated


def test_evidence_points_at_the_words_in_their_passage(engine: ClinicalNlp) -> None:
    passages = [
        Passage("t1", "How is your knee?", "doctor"),
        Passage("t2", "It hurts. I take Tylenol 500 mg for it, but no fever.", "patient"),
    ]
    found = engine.extract(passages)
    texts = {p.id: p.text for p in passages}
    (med,) = found.medications
    ev = med.evidence
    assert ev.passage_id == "t2" and texts["t2"][ev.start_char : ev.end_char] == "Tylenol"
    fever = next(p for p in found.problems if p.label == "fever")
    assert texts[fever.evidence.passage_id][fever.evidence.start_char : fever.evidence.end_char] == "fever"
    assert fever.negated


def test_deterministic_and_repeatable(engine: ClinicalNlp) -> None:
    text = "no chest pain. i take lisinopril twenty milligrams daily and my knees hurt."
    assert engine.extract_text(text) == engine.extract_text(text)


def test_misheard_drug_name_near_a_dose(engine: ClinicalNlp) -> None:
    # speech recognition turns "zoloft" into "maloft": matched only because a dose follows
    (m,) = engine.extract_text("we'll start a different medication, maloft, 25 mg once a day").medications
    assert (m.name, m.fuzzy, m.dose) == ("sertraline", True, "25")
    assert engine.extract_text("please use my general exam template, all right").medications == ()
