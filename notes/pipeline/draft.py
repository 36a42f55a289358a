"""Drafting step: transcript + findings + the patient's signed notes → a grounded note version.

Sections are drafted one at a time so subscribers hear each one land; the claim checks then label
every sentence, and the version is written in one transaction. Regeneration redrafts only the named
sections on top of the latest version and never replaces a section a clinician has edited since.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from notes.access import unit_of_work
from notes.drafting.drafter import Drafter
from notes.drafting.finalize import FINALIZE_VERSION, FinalizeOptions, finalize_draft, repair_client
from notes.drafting.template import load_template
from notes.drafting.types import (
    ClaimReport,
    Draft,
    DraftRequest,
    DraftSection,
    PriorNote,
    SentenceSupport,
    SourceFinding,
    SourceSegment,
)
from notes.encounters.records import EncounterRecord
from notes.encounters.repository import EncounterRepository
from notes.encounters.status import EncounterStatus
from notes.encounters.transitions import move_to
from notes.events.kinds import EventKind
from notes.events.publisher import publish
from notes.findings.records import FindingRecord
from notes.findings.repository import FindingRepository
from notes.pipeline.runtime import PipelineRuntime
from notes.transcripts.records import SegmentRecord, TranscriptRecord
from notes.transcripts.repository import TranscriptRepository
from notes.transcripts.status import TranscriptStatus
from notes.visitnotes.content import EvidenceRef, Section, Sentence, worklist_counts
from notes.visitnotes.records import NoteRecord
from notes.visitnotes.repository import NoteRepository
from notes.visitnotes.status import AuthorKind, NoteStatus, Provenance, SentenceOrigin, Support

TEMPLATE = "soap"


@dataclass(frozen=True)
class Inputs:
    encounter: EncounterRecord
    transcript: TranscriptRecord
    segments: list[SegmentRecord]
    findings: list[FindingRecord]
    prior: list[PriorNote]
    note: NoteRecord | None


def source_segments(segments: Sequence[SegmentRecord]) -> tuple[SourceSegment, ...]:
    return tuple(SourceSegment(str(s.id), s.start_ms, s.end_ms, s.speaker, s.text) for s in segments)


def source_findings(findings: Sequence[FindingRecord]) -> tuple[SourceFinding, ...]:
    return tuple(
        SourceFinding(
            id=str(f.id),
            kind=f.kind,  # type: ignore[arg-type]
            text=f.text,
            display=f.name or f.code_display or f.text,
            segment_id=str(f.segment_id),
            code=f"{f.code_system}:{f.code}" if f.code and f.code_system else None,
            negated=f.negated,
            family=f.family,
            historical=f.historical,
            hypothetical=f.hypothetical,
            uncertain=f.uncertain or f.asked,  # asked, never answered: not an assertion
            dose=f.dose,
            unit=f.unit,
            frequency=f.frequency,
            status=f.status,
            start_char=f.start_char,
            end_char=f.end_char,
        )
        for f in findings
        if f.segment_id is not None
    )


async def _gather(runtime: PipelineRuntime, encounter_id: uuid.UUID) -> Inputs | None:
    access = runtime.access("drafter")
    assert access.principal is not None
    async with unit_of_work(runtime.services.database, access) as work:
        principal = access.principal
        encounter = await EncounterRepository(work.session, principal).get(encounter_id)
        if encounter is None:
            return None
        transcripts = TranscriptRepository(work.session, principal)
        transcript = (await transcripts.latest_for_encounters([encounter_id])).get(encounter_id)
        if transcript is None or transcript.status is not TranscriptStatus.DONE:
            return None
        segments = await transcripts.all_segments(transcript.id)
        findings = (await FindingRepository(work.session, principal).for_encounters([encounter_id])).get(
            encounter_id, []
        )
        notes = NoteRepository(work.session, principal)
        prior = [
            PriorNote(str(n.id), n.signed_at, {s.kind: s.text for s in v.sections})  # type: ignore[arg-type]
            for n, v in await notes.prior_signed(encounter.patient_id, exclude_encounter=encounter_id)
        ]
        note = await notes.for_encounter(encounter_id)
        work.audit("read", "transcript", transcript.id)
        work.audit("read", "findings", encounter_id)
        for prior_note in prior:
            work.audit("read", "note", prior_note.id)
    return Inputs(encounter, transcript, segments, findings, prior, note)


async def _start(runtime: PipelineRuntime, inputs: Inputs) -> NoteRecord:
    access = runtime.access("drafter")
    assert access.principal is not None
    encounter = inputs.encounter
    async with unit_of_work(runtime.services.database, access) as work:
        notes = NoteRepository(work.session, access.principal)
        note = await notes.for_encounter(encounter.id, for_update=True)
        if note is None:
            note = await notes.create(
                encounter_id=encounter.id,
                organization_id=encounter.organization_id,
                patient_id=encounter.patient_id,
                template_id=TEMPLATE,
            )
            work.audit("create", "note", note.id)
        await move_to(work.session, encounter.id, encounter.organization_id, EncounterStatus.DRAFTING)
    return note


async def _draft_sections(
    drafter: Drafter, runtime: PipelineRuntime, request: DraftRequest, note: NoteRecord, encounter: EncounterRecord
) -> Draft:
    drafted: list[DraftSection] = []
    first: Draft | None = None
    for kind in request.section_kinds():
        one = await drafter.draft(
            DraftRequest(request.segments, request.findings, request.prior_notes, request.template, (kind,))
        )
        first = first or one
        drafted.extend(one.sections)
        async with runtime.services.database.transaction() as session:
            await publish(
                session,
                encounter_id=encounter.id,
                organization_id=encounter.organization_id,
                kind=EventKind.NOTE_SECTION_DRAFTED,
                payload={"noteId": str(note.id), "section": kind},
            )
    assert first is not None
    return Draft(tuple(drafted), first.drafter, first.input_digest, first.withheld_segment_ids)


def to_sections(draft: Draft, report: ClaimReport, segments: dict[str, SegmentRecord]) -> list[Section]:
    checked = {(c.section_kind, c.index): c for c in report.sentences}
    sections = []
    for section in draft.sections:
        sentences = []
        for index, sentence in enumerate(section.sentences):
            check = checked.get((section.kind, index))
            cited = check.evidence_segment_ids if check and check.evidence_segment_ids else sentence.segment_ids
            evidence = tuple(
                EvidenceRef(sid, segments[sid].start_ms, segments[sid].end_ms) for sid in cited if sid in segments
            )
            sentences.append(
                Sentence(
                    id=str(uuid.uuid4()),
                    text=sentence.text,
                    origin=SentenceOrigin(sentence.origin),
                    support=Support(check.support.value) if check else Support.UNSUPPORTED,
                    authored_by=AuthorKind.AI,
                    evidence=evidence,
                    finding_ids=sentence.finding_ids,
                    prior_note_ids=sentence.prior_note_ids,
                    reasons=check.reasons if check else ("not_checked",),
                    provenance=Provenance(sentence.provenance),
                    original_text=sentence.original_text,
                )
            )
        sections.append(Section(section.kind, section.title, tuple(sentences), section.fallback_reason))
    return sections


async def draft_note(
    runtime: PipelineRuntime,
    encounter_id: uuid.UUID,
    *,
    sections: list[str] | None = None,
    base_version: int | None = None,
) -> None:
    inputs = await _gather(runtime, encounter_id)
    if inputs is None:
        return
    regenerate = sections is not None
    if regenerate and inputs.note is None:
        return
    if not regenerate and inputs.note is not None and inputs.note.current_version > 0:
        return  # a redelivered job: the note was drafted already
    note = await _start(runtime, inputs)
    template = load_template(note.template_id)
    request = DraftRequest(
        segments=source_segments(inputs.segments),
        findings=source_findings(inputs.findings),
        prior_notes=tuple(inputs.prior),
        template=template,
        sections=tuple(sections) if sections else None,
    )
    started = time.monotonic()
    drafter = await runtime.drafter()
    draft = await _draft_sections(drafter, runtime, request, note, inputs.encounter)
    engine = await asyncio.to_thread(runtime.nlp_engine)
    # The grounding pass: failing sentences rewritten only where the rewrite checks SUPPORTED, drugs the
    # draft left out restated from their findings, then the claim report that goes with the version.
    # A regeneration drafts some sections only: the drugs the others state would look omitted.
    options = FinalizeOptions(arrange_medications=not regenerate)
    draft, report = await finalize_draft(
        draft, request, engine, repair_client(drafter), started_at=started, options=options
    )
    drafted = to_sections(draft, report, {str(s.id): s for s in inputs.segments})
    await _store(runtime, inputs, note, draft, report, drafted, regenerate=regenerate)


async def _store(
    runtime: PipelineRuntime,
    inputs: Inputs,
    note: NoteRecord,
    draft: Draft,
    report: ClaimReport,
    drafted: list[Section],
    *,
    regenerate: bool,
) -> None:
    access = runtime.access("drafter")
    assert access.principal is not None
    encounter = inputs.encounter
    async with unit_of_work(runtime.services.database, access) as work:
        notes = NoteRepository(work.session, access.principal)
        current = await notes.for_encounter(encounter.id, for_update=True)
        if current is None or current.status is NoteStatus.SIGNED:
            return
        if regenerate:
            base = await notes.version(current.id, current.current_version)
            if base is None:
                return
            fresh = {s.kind: s for s in drafted}
            # A section the clinician edited after the request was made stays theirs.
            merged = [fresh[s.kind] if s.kind in fresh and not s.edited_by_clinician else s for s in base.sections]
        else:
            if current.current_version > 0:
                return
            merged = drafted
        version = await notes.add_version(
            current,
            expected_version=current.current_version,
            author_kind=AuthorKind.AI,
            author_id=None,
            sections=merged,
            inputs={
                "transcript_id": str(inputs.transcript.id),
                "ruleset_version": inputs.findings[0].ruleset_version if inputs.findings else None,
                "input_digest": draft.input_digest,
                "prior_note_ids": [p.id for p in inputs.prior],
                "sections": [s.kind for s in drafted],
                "checker_version": report.checker_version,
                "finalize_version": FINALIZE_VERSION,
                "arranged_sentences": draft.arranged_sentences,
                "repaired_sentences": draft.repaired_sentences,
                "corrected_sentences": draft.corrected_sentences,
                "drafter_fallback": draft.drafter.fallback_reason,
                "template": note.template_id,
            },
            omissions=[{"finding_id": o.finding_id, "kind": o.kind, "negated": o.negated} for o in report.omissions],
            flags=[
                {"segment_id": f.segment_id, "rule": f.rule, "start_char": f.start_char, "end_char": f.end_char}
                for f in report.injections
            ],
            drafter=(draft.drafter.kind, draft.drafter.model, draft.drafter.prompt_version),
            counts=worklist_counts(merged),
        )
        if version is None:
            return
        await publish(
            work.session,
            encounter_id=encounter.id,
            organization_id=encounter.organization_id,
            kind=EventKind.CLAIMS_CHECKED,
            payload={
                "noteId": str(current.id),
                "version": version,
                "supported": report.counts.get(SentenceSupport.SUPPORTED.value, 0),
                "unsupported": report.counts.get(SentenceSupport.UNSUPPORTED.value, 0),
                "contradicted": report.counts.get(SentenceSupport.CONTRADICTED.value, 0),
                "doseMismatch": report.counts.get(SentenceSupport.DOSE_MISMATCH.value, 0),
                "otherScript": report.counts.get(SentenceSupport.OTHER_SCRIPT.value, 0),
            },
        )
        await move_to(work.session, encounter.id, encounter.organization_id, EncounterStatus.DRAFTED)
        work.audit("create", "note_version", current.id)


async def fail_drafting(runtime: PipelineRuntime, encounter_id: uuid.UUID, reason: str) -> None:
    access = runtime.access("drafter")
    assert access.principal is not None
    async with unit_of_work(runtime.services.database, access) as work:
        notes = NoteRepository(work.session, access.principal)
        note = await notes.for_encounter(encounter_id, for_update=True)
        encounter = await EncounterRepository(work.session, access.principal).get(encounter_id)
        if encounter is None:
            return
        if note is not None and note.current_version > 0:
            await notes.set_status(note.id, NoteStatus.DRAFT)  # the previous version stands
            await move_to(work.session, encounter.id, encounter.organization_id, EncounterStatus.DRAFTED)
            return
        if note is not None:
            await notes.set_status(note.id, NoteStatus.FAILED, reason)
        await move_to(work.session, encounter.id, encounter.organization_id, EncounterStatus.FAILED, reason)
