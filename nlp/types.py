"""Plain data the clinical NLP engine takes and returns. No spaCy imports here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

MedicationStatus = Literal["taking", "started", "stopped", "changed", "conditional", "unknown"]


@dataclass(frozen=True, slots=True)
class Passage:
    """One unit of input text (a transcript segment or a dialogue turn)."""

    id: str
    text: str
    speaker: str | None = None


@dataclass(frozen=True, slots=True)
class Evidence:
    """Where a finding was read: the passage and character offsets inside that passage's text."""

    passage_id: str
    start_char: int
    end_char: int


@dataclass(frozen=True, slots=True)
class Code:
    system: str  # "ICD-10-CM", "DrugBank", "MeSH"
    code: str
    display: str


@dataclass(frozen=True, slots=True)
class ProblemFinding:
    text: str  # the words as said
    code: Code | None
    negated: bool
    historical: bool
    family: bool
    hypothetical: bool
    uncertain: bool
    evidence: Evidence
    # Added fields (defaults keep older call sites valid):
    label: str = ""  # canonical words, e.g. "right knee pain" for "my right knee hurts"
    asked: bool = False  # only asked about, never answered (then also `uncertain`)
    kind: str = "term"  # "term" (a vocabulary term), "site" ("my knee hurts"), "lab" ("a1c is elevated")


@dataclass(frozen=True, slots=True)
class MedicationFinding:
    text: str  # the words as said
    name: str  # normalised generic name
    code: Code | None
    dose: str | None  # "500" (value only, digits)
    unit: str | None  # "mg"
    route: str | None  # "oral", "inhaled", "topical", ...
    frequency: str | None  # normalised, e.g. "twice a day", "as needed"
    duration: str | None  # "for 10 days"
    status: MedicationStatus
    negated: bool
    evidence: Evidence
    codes: tuple[Code, ...] = field(default_factory=tuple)
    # Added fields (defaults keep older call sites valid):
    allergy: bool = False  # named as an allergy: not a medication the patient takes
    historical: bool = False  # taken in the past and no longer (with status "stopped")
    uncertain: bool = False  # only asked about, or hedged
    brand: bool = False  # said as a brand name (`text`), `name` is the generic
    fuzzy: bool = False  # `text` is a near-miss spelling (speech recognition), matched to `name` by sound


@dataclass(frozen=True, slots=True)
class Findings:
    problems: tuple[ProblemFinding, ...]
    medications: tuple[MedicationFinding, ...]
    ruleset_version: str
