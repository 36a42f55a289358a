"""How much a left-out finding matters, and whether the clinician has accepted leaving it out.

A note version stores its omissions as the claim check found them (finding id, kind, negated). Severity is
decided here, at read time, from the stored finding's assertion and status, so it follows the findings the
clinician sees and needs no rewrite of immutable versions when the rule changes.

CRITICAL: a present problem (asserted: not denied, asked only, hedged, hypothetical, past or a relative's),
or a medication that changes today (started, changed, stopped) and is not denied, past or hedged. The
findings have no kind for ordered tests or referrals yet; when they do, an ordered one belongs here too.
Everything else is ROUTINE: worth showing, never a reason to refuse a signature.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from authz.principal import Principal
from notes.findings.records import FindingRecord
from notes.findings.repository import FindingRepository
from notes.visitnotes.records import AcknowledgementRecord, NoteRecord, NoteVersionRecord
from notes.visitnotes.repository import NoteRepository

# Medication statuses that mean a decision made at this visit (nlp.types.MedicationStatus).
CHANGING_STATUSES = frozenset({"started", "changed", "stopped"})


class OmissionSeverity(StrEnum):
    CRITICAL = "CRITICAL"  # must be acknowledged before the note can be signed
    ROUTINE = "ROUTINE"


@dataclass(frozen=True, slots=True)
class OmissionView:
    finding_id: str
    kind: str
    negated: bool
    severity: OmissionSeverity
    acknowledgement: AcknowledgementRecord | None


def _asserted(finding: FindingRecord) -> bool:
    return not (
        finding.negated
        or finding.asked
        or finding.uncertain
        or finding.hypothetical
        or finding.historical
        or finding.family
    )


def severity(kind: str, negated: bool, finding: FindingRecord | None) -> OmissionSeverity:
    if negated:
        return OmissionSeverity.ROUTINE
    if finding is None:
        # The finding was replaced (a re-extraction) after this version was checked: without its assertion
        # we cannot show it is harmless, so it needs the clinician's eyes.
        return OmissionSeverity.CRITICAL
    if not _asserted(finding):
        return OmissionSeverity.ROUTINE
    if kind == "problem":
        return OmissionSeverity.CRITICAL
    if kind == "medication" and finding.status in CHANGING_STATUSES:
        return OmissionSeverity.CRITICAL
    return OmissionSeverity.ROUTINE


def assess(
    omissions: Iterable[Mapping[str, Any]],
    findings: Sequence[FindingRecord],
    acknowledgements: Sequence[AcknowledgementRecord],
) -> list[OmissionView]:
    by_id = {str(f.id): f for f in findings}
    acknowledged = {str(a.finding_id): a for a in acknowledgements}
    return [
        OmissionView(
            finding_id=str(o["finding_id"]),
            kind=str(o["kind"]),
            negated=bool(o["negated"]),
            severity=severity(str(o["kind"]), bool(o["negated"]), by_id.get(str(o["finding_id"]))),
            acknowledgement=acknowledged.get(str(o["finding_id"])),
        )
        for o in omissions
    ]


def open_critical(views: Iterable[OmissionView]) -> list[str]:
    """Finding ids that block a signature: CRITICAL and not yet acknowledged."""
    return [v.finding_id for v in views if v.severity is OmissionSeverity.CRITICAL and v.acknowledgement is None]


def parse_finding_ids(values: Iterable[str]) -> tuple[list[uuid.UUID], list[str]]:
    """(the ids as UUIDs, the values that are not UUIDs at all), duplicates dropped."""
    parsed: dict[uuid.UUID, None] = {}
    invalid: list[str] = []
    for value in values:
        try:
            parsed[uuid.UUID(value)] = None
        except ValueError:
            invalid.append(value)
    return list(parsed), invalid


async def current_omissions(
    session: AsyncSession, principal: Principal, note: NoteRecord, version: NoteVersionRecord
) -> list[OmissionView]:
    """The version's omissions with severity and acknowledgement, read in the caller's transaction."""
    findings = await FindingRepository(session, principal).for_encounters([note.encounter_id])
    acknowledgements = await NoteRepository(session, principal).acknowledgements([note.id])
    return assess(version.omissions, findings.get(note.encounter_id, []), acknowledgements.get(note.id, []))
