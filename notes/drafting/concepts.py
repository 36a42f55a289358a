"""Is this mention in the note the same problem / drug as that finding in the transcript?

Codes first (the NLP engine maps "high blood pressure" and "hypertension" to one ICD-10 code), then
words. ICD-10-CM codes are compared without their laterality digit ("M25.561" right knee pain ~ "M25.562")
because a note and a patient rarely agree on laterality; other differences fall back to the words.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace

from notes.drafting.text import content_words, numbers, stem, tokens, word_set
from notes.drafting.types import SourceFinding, SourceSegment

# Words that say how or where but not what: they cannot make two problems the same on their own.
_GENERIC = frozenset(
    stem(w)
    for w in word_set(
        """
        pain ache tender tenderness chronic acute mild moderate severe left right bilateral history
        symptom problem issue disease disorder condition increased decreased elevated low high worsening
        new recent pressure level side
        """
    )
)


def _code_key(code: str | None) -> str | None:
    """ICD-10-CM codes without the dot and without a final laterality digit ("M25.561" ~ "M25.562" both
    read "M2556"); other code systems as they are. Chapter-level grouping would be too coarse: R11 holds
    both nausea and vomiting."""
    if not code or ":" not in code:
        return None
    system, value = code.split(":", 1)
    if system.upper().startswith("ICD"):
        value = value.replace(".", "").upper()
        return value[:-1] if len(value) >= 6 else value
    return code


def problem_words(text: str) -> set[str]:
    return content_words(text)


def same_problem(a_text: str, a_code: str | None, b_text: str, b_code: str | None) -> bool:
    ca, cb = _code_key(a_code), _code_key(b_code)
    if ca and cb and ca == cb:
        return True
    wa, wb = problem_words(a_text), problem_words(b_text)
    if not wa or not wb:
        return False
    shared = wa & wb
    if not (shared - _GENERIC):
        return False
    small, large = (wa, wb) if len(wa) <= len(wb) else (wb, wa)
    dice = 2 * len(shared) / (len(wa) + len(wb))
    return dice >= 0.5 or small <= large


def drug_words(name: str) -> set[str]:
    return {t for t in tokens(name) if not t[0].isdigit() and t not in _DRUG_FORMS}


_DRUG_FORMS = word_set(
    """
    tablet tablets tab tabs pill pills capsule capsules inhaler injection solution cream ointment
    patch drops spray gel shampoo er xr sr hcl hydrochloride sodium potassium mg mcg
    """
)


def same_drug(a_name: str, a_code: str | None, b_name: str, b_code: str | None) -> bool:
    if a_code and b_code and a_code == b_code:
        return True
    wa, wb = drug_words(a_name), drug_words(b_name)
    return bool(wa and wb and (wa <= wb or wb <= wa))


_CLAUSE_END = re.compile(r"[.?!]")


def asked_at(text: str, end_char: int | None) -> bool:
    """Does the clause ending after `end_char` end with a question mark?"""
    if end_char is None:
        return False
    m = _CLAUSE_END.search(text, end_char)
    return bool(m and m.group(0) == "?")


def in_question(finding: SourceFinding, segment_text: str) -> bool:
    """Was it said inside a question ("any chest pain?")? Then it asserts nothing by itself."""
    return asked_at(segment_text, finding.end_char)


def concept_key(f: SourceFinding) -> str:
    """Groups mentions of one thing: the full code (laterality kept), else the normalised words."""
    if f.kind == "medication":
        return "m:" + " ".join(sorted(drug_words(f.display or f.text))) or f.text.lower()
    return "p:" + (f.code or " ".join(sorted(content_words(f.text))))


def _representative(group: list[SourceFinding], texts: Mapping[str, str]) -> SourceFinding | None:
    """One finding that states what the transcript says about a concept.

    Mentions inside questions ("any chest pain?") assert nothing; statements decide. A problem is present
    if any statement asserts it, denied if statements only deny it. A drug: the plan's mention with a dose
    wins (the dose being prescribed), else any mention with a dose, else the last.
    """
    statements = [f for f in group if not in_question(f, texts.get(f.segment_id, ""))]
    # Only asked? Then the engine's reading of the reply stands (yes: present, no: denied, none: hedged).
    pool = statements or group
    if pool[0].kind == "medication":
        with_dose = [f for f in pool if f.dose and not f.allergy]
        planned = [f for f in with_dose if f.status in ("started", "changed", "stopped")]
        return (planned or with_dose or pool)[-1]
    asserted = [f for f in pool if f.asserted]
    denied = [f for f in pool if f.negated and not f.family]
    return (asserted or denied or pool)[0]


def representatives(findings: Sequence[SourceFinding], texts: Mapping[str, str]) -> list[SourceFinding]:
    """One finding per concept, in order of first mention (see `_representative`)."""
    groups: dict[str, list[SourceFinding]] = {}
    for f in findings:
        groups.setdefault(concept_key(f), []).append(f)
    return [r for g in groups.values() if (r := _representative(g, texts)) is not None]


def dose_values(dose: str | None) -> set[float]:
    return numbers(dose) if dose else set()


# "allergic to percocet, vicodin and reglan": the drug follows the cue closely, often in the next segment
# (a speech engine cuts long turns anywhere).
_ALLERGY_CUE = re.compile(r"\b(?:allerg(?:ic|y|ies)|intoleran(?:t|ce))\b(?:\s+to\b)?")
_ALLERGY_REACH = 6  # words between the cue and the drug


def allergy_context(f: SourceFinding, text: str, previous: str = "") -> bool:
    """Was this drug said right after an allergy cue ("you're allergic to | percocet")? `text` is its
    segment's text, `previous` the segment before it."""
    if f.kind != "medication" or f.start_char is None:
        return False
    context = (previous + " " + text[: f.start_char]).lower()
    cues = list(_ALLERGY_CUE.finditer(context))
    return bool(cues) and len(tokens(context[cues[-1].end() :])) <= _ALLERGY_REACH


def mark_allergies(findings: Sequence[SourceFinding], segments: Sequence[SourceSegment]) -> tuple[SourceFinding, ...]:
    """Findings with `allergy` set on drugs said in an allergy list that the NLP engine did not mark (it
    reads one segment at a time; the cue is often in the segment before). A drug ever named as an
    allergy is then an allergy everywhere in the visit: the note must never list it as taken."""
    texts = {s.id: s.text for s in segments}
    previous = {s.id: segments[i - 1].text if i else "" for i, s in enumerate(segments)}
    allergic = {
        concept_key(f)
        for f in findings
        if f.kind == "medication"
        and (f.allergy or allergy_context(f, texts.get(f.segment_id, ""), previous.get(f.segment_id, "")))
    }
    if not allergic:
        return tuple(findings)
    return tuple(
        replace(f, allergy=True) if f.kind == "medication" and not f.allergy and concept_key(f) in allergic else f
        for f in findings
    )
