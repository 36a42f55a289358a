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


@dataclass(frozen=True, slots=True)
class Findings:
    problems: tuple[ProblemFinding, ...]
    medications: tuple[MedicationFinding, ...]
    ruleset_version: str
