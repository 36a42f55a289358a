"""The one thing the drafter needs from the NLP engine, as a Protocol, and the bridge from its output.

`nlp.engine.ClinicalNlp` satisfies `Extractor`; tests can pass anything with the same `extract`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from nlp.types import Findings, MedicationFinding, Passage, ProblemFinding
from notes.drafting.types import SourceFinding


class Extractor(Protocol):
    def extract(self, passages: Sequence[Passage]) -> Findings: ...


def finding_code(f: ProblemFinding | MedicationFinding) -> str | None:
    """The engine's code as the drafter writes it: "ICD-10-CM:R51.9"."""
    return None if f.code is None else f"{f.code.system}:{f.code.code}"


def problem_to_source(f: ProblemFinding, finding_id: str) -> SourceFinding:
    return SourceFinding(
        id=finding_id,
        kind="problem",
        text=f.text,
        display=f.code.display if f.code else f.text,
        segment_id=f.evidence.passage_id,
        code=finding_code(f),
        negated=f.negated,
        family=f.family,
        historical=f.historical,
        hypothetical=f.hypothetical,
        uncertain=f.uncertain,
        start_char=f.evidence.start_char,
        end_char=f.evidence.end_char,
    )


def medication_to_source(f: MedicationFinding, finding_id: str) -> SourceFinding:
    return SourceFinding(
        id=finding_id,
        kind="medication",
        text=f.text,
        display=f.name,
        segment_id=f.evidence.passage_id,
        code=finding_code(f),
        negated=f.negated,
        dose=f.dose,
        unit=f.unit,
        frequency=f.frequency,
        status=f.status,
        allergy=f.allergy,
        historical=f.historical,
        uncertain=f.uncertain,
        start_char=f.evidence.start_char,
        end_char=f.evidence.end_char,
    )


def findings_to_sources(findings: Findings, id_prefix: str = "f") -> tuple[SourceFinding, ...]:
    """Engine output -> drafter input, with ids `{prefix}p1…`, `{prefix}m1…` (the lead uses database ids)."""
    out = [problem_to_source(p, f"{id_prefix}p{i + 1}") for i, p in enumerate(findings.problems)]
    out += [medication_to_source(m, f"{id_prefix}m{i + 1}") for i, m in enumerate(findings.medications)]
    return tuple(out)
