from __future__ import annotations

import strawberry

from notes.findings.records import FindingRecord


@strawberry.type(description="A code in a terminology.")
class Code:
    system: str = strawberry.field(description="ICD-10-CM, DrugBank, MeSH, ...")
    code: str = strawberry.field(description="The code.")
    display: str = strawberry.field(description="Its preferred name.")


@strawberry.type(description="Where a finding was heard: the segment, the characters in its text, and the audio time.")
class Evidence:
    segment_id: strawberry.ID | None = strawberry.field(description="The transcript segment.")
    start_char: int = strawberry.field(description="First character in the segment's text.")
    end_char: int = strawberry.field(description="One past the last character.")
    start_ms: int = strawberry.field(description="Audio start of the words, ms from the start of the recording.")
    end_ms: int = strawberry.field(description="Audio end of the words.")
    speaker: str = strawberry.field(description="clinician, patient or unknown.")


def _code(record: FindingRecord) -> Code | None:
    if record.code is None or record.code_system is None:
        return None
    return Code(system=record.code_system, code=record.code, display=record.code_display or "")


def _evidence(record: FindingRecord) -> list[Evidence]:
    return [
        Evidence(
            segment_id=strawberry.ID(str(record.segment_id)) if record.segment_id else None,
            start_char=record.start_char,
            end_char=record.end_char,
            start_ms=record.start_ms,
            end_ms=record.end_ms,
            speaker=record.speaker,
        )
    ]


@strawberry.type(description="A problem (condition, symptom, finding) mentioned in the visit, with its context.")
class Problem:
    id: strawberry.ID = strawberry.field(description="Stable identifier (notes cite it).")
    text: str = strawberry.field(description="The words as said.")
    code: Code | None = strawberry.field(description="ICD-10-CM code, when one matched.")
    negated: bool = strawberry.field(description="Denied or ruled out.")
    historical: bool = strawberry.field(description="Past, not current.")
    family: bool = strawberry.field(description="About a relative, not the patient.")
    hypothetical: bool = strawberry.field(description='Conditional ("if you get a fever").')
    uncertain: bool = strawberry.field(description="Suspected or possible.")
    asked: bool = strawberry.field(description="Only mentioned in a question that was not answered.")
    evidence: list[Evidence] = strawberry.field(description="Where it was said.")

    @classmethod
    def of(cls, record: FindingRecord) -> Problem:
        return cls(
            id=strawberry.ID(str(record.id)),
            text=record.text,
            code=_code(record),
            negated=record.negated,
            historical=record.historical,
            family=record.family,
            hypothetical=record.hypothetical,
            uncertain=record.uncertain,
            asked=record.asked,
            evidence=_evidence(record),
        )


@strawberry.type(description="A medication mentioned in the visit, with dose, route, frequency and status.")
class Medication:
    id: strawberry.ID = strawberry.field(description="Stable identifier (notes cite it).")
    text: str = strawberry.field(description="The words as said.")
    name: str = strawberry.field(description="Generic name.")
    code: Code | None = strawberry.field(description="DrugBank (or MeSH) identifier.")
    dose: str | None = strawberry.field(description="Dose value, e.g. 500.")
    unit: str | None = strawberry.field(description="Dose unit, e.g. mg.")
    route: str | None = strawberry.field(description="oral, inhaled, topical, ...")
    frequency: str | None = strawberry.field(description="e.g. twice a day, as needed.")
    duration: str | None = strawberry.field(description="e.g. for 10 days.")
    status: str | None = strawberry.field(description="taking, started, stopped, changed, conditional, unknown.")
    negated: bool = strawberry.field(description="Not taken / denied.")
    evidence: list[Evidence] = strawberry.field(description="Where it was said.")

    @classmethod
    def of(cls, record: FindingRecord) -> Medication:
        return cls(
            id=strawberry.ID(str(record.id)),
            text=record.text,
            name=record.name or record.text,
            code=_code(record),
            dose=record.dose,
            unit=record.unit,
            route=record.route,
            frequency=record.frequency,
            duration=record.duration,
            status=record.status,
            negated=record.negated,
            evidence=_evidence(record),
        )


@strawberry.type(description="What the clinical NLP found in the encounter's transcript.")
class Findings:
    problems: list[Problem] = strawberry.field(description="Problems in order of mention.")
    medications: list[Medication] = strawberry.field(description="Medications in order of mention.")
    ruleset_version: str | None = strawberry.field(description="The extraction rules that produced them.")

    @classmethod
    def of(cls, records: list[FindingRecord]) -> Findings:
        return cls(
            problems=[Problem.of(r) for r in records if r.kind == "problem"],
            medications=[Medication.of(r) for r in records if r.kind == "medication"],
            ruleset_version=records[0].ruleset_version if records else None,
        )
