"""From mentions to one item per problem and per drug, as a note (or the eval) lists them.

Problems: a problem is present when any mention asserts it for the patient (not denied, hedged, asked only,
hypothetical or about a relative); denied when it is only ever denied. Denied family history stays denied
("no family history of colon cancer"). Medications: the patient's current and newly prescribed drugs;
allergies, denied or only-asked drugs and past drugs the patient no longer takes are left out; a drug
stopped today is kept (it was current until this visit).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from nlp.lexicon.norm import norm_key
from nlp.types import Findings, MedicationFinding, ProblemFinding

_VACCINE_WORDS = ("vaccine", "vaccination", "toxoid")
_PRONOUNS = frozenset({"i", "my", "me", "you", "your", "he", "his", "him", "she", "her", "we", "our"})


@dataclass(frozen=True, slots=True)
class ProblemItem:
    text: str
    negated: bool
    code: str | None
    mentions: int


@dataclass(frozen=True, slots=True)
class MedicationItem:
    name: str  # "Lasix (furosemide)" when said as a brand
    generic: str
    dose: str | None  # "500 mg"
    frequency: str | None
    status: str
    mentions: int


def _problem_key(p: ProblemFinding) -> str:
    # the problem's name, laterality aside ("right knee pain" ~ "knee pain"); synonyms share a name
    return norm_key(w for w in p.label.split() if w not in ("right", "left", "bilateral"))


def _affirmed(p: ProblemFinding) -> bool:
    return not (p.negated or p.uncertain or p.hypothetical or p.family)


def _denied(p: ProblemFinding) -> bool:
    return p.negated and not (p.uncertain or p.hypothetical)


def summarize_problems(problems: Iterable[ProblemFinding]) -> list[ProblemItem]:
    groups: dict[str, list[ProblemFinding]] = {}
    for p in problems:
        groups.setdefault(_problem_key(p), []).append(p)
    out: list[ProblemItem] = []
    for group in groups.values():
        affirmed = [p for p in group if _affirmed(p)]
        denied = [p for p in group if _denied(p)]
        code = group[0].code.code if group[0].code else None
        if affirmed:
            out.append(ProblemItem(_name(affirmed), False, code, len(group)))
        elif denied:
            best = _name(denied)
            text = f"family history of {best}" if any(p.family for p in denied) else best
            out.append(ProblemItem(text, True, code, len(group)))
    return _drop_contained(out)


def _name(mentions: list[ProblemFinding]) -> str:
    """How to name a problem: the fullest words said for it, or the composed name ("right knee pain")."""
    composed = [p.label for p in mentions if p.kind != "term"]
    if composed:
        return max(composed, key=len)
    # a phrase as said ("visual changes", "fluid retention"); a single word or a phrase with a pronoun by
    # its name ("dizzy": dizziness; "burning when you pee": burning with urination)
    phrases = [
        p.text.lower() for p in mentions if " " in p.text.strip() and not _PRONOUNS & set(p.text.lower().split())
    ]
    return max(phrases, key=len) if phrases else mentions[0].label


def _drop_contained(items: list[ProblemItem]) -> list[ProblemItem]:
    """ "anemia" adds nothing beside "iron deficiency anemia" of the same polarity."""
    words = [frozenset(norm_key([w]) for w in i.text.split()) for i in items]
    keep = []
    for k, item in enumerate(items):
        if any(o != k and items[o].negated == item.negated and words[k] < words[o] for o in range(len(items))):
            continue
        keep.append(item)
    return keep


def _current(m: MedicationFinding) -> bool:
    return not (m.negated or m.allergy or m.historical or m.uncertain)


def _dose(m: MedicationFinding) -> str | None:
    if m.dose is None:
        return None
    return f"{m.dose} {m.unit}" if m.unit else m.dose


def summarize_medications(medications: Iterable[MedicationFinding]) -> list[MedicationItem]:
    groups: dict[str, list[MedicationFinding]] = {}
    for m in medications:
        groups.setdefault(m.name, []).append(m)
    out: list[MedicationItem] = []
    for generic, group in groups.items():
        if any(w in generic for w in _VACCINE_WORDS):
            continue
        current = [m for m in group if _current(m)]
        if not current:
            continue
        # the plan's words win: a started or changed mention with a dose, else the last mention with one
        with_dose = [m for m in current if m.dose is not None]
        planned = [m for m in with_dose if m.status in ("started", "changed")]
        chosen = (planned or with_dose or current)[-1]
        freq = chosen.frequency or next((m.frequency for m in reversed(current) if m.frequency), None)
        if freq and "as needed" not in freq and any(m.frequency == "as needed" for m in current):
            freq = f"{freq} as needed"  # "tylenol for occasional pain" ... "about once a month"
        brand = next((m for m in current if m.brand), None)
        name = f"{brand.text} ({generic})" if brand else generic
        status = next((m.status for m in reversed(current) if m.status != "unknown"), "unknown")
        out.append(MedicationItem(name, generic, _dose(chosen), freq, status, len(group)))
    return out


def summarize(findings: Findings) -> tuple[list[ProblemItem], list[MedicationItem]]:
    return summarize_problems(findings.problems), summarize_medications(findings.medications)
