from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum

import strawberry

from api.policy import policy
from notes.visitnotes.content import Section, Sentence
from notes.visitnotes.omissions import OmissionSeverity, OmissionView, assess
from notes.visitnotes.records import AmendmentRecord, NoteRecord, NoteVersionRecord
from notes.visitnotes.status import AuthorKind, NoteStatus, Provenance, SentenceOrigin, Support

strawberry.enum(NoteStatus, name="NoteStatus", description="DRAFTING, DRAFT (awaiting review), SIGNED, FAILED.")
strawberry.enum(AuthorKind, name="AuthorKind", description="Who wrote a version or sentence.")
strawberry.enum(
    OmissionSeverity,
    name="OmissionSeverity",
    description="CRITICAL: a present problem or a medication started, changed or stopped at this visit; the "
    "note cannot be signed until the clinician acknowledges it. ROUTINE: denied, asked-only, hedged, past or "
    "family findings and unchanged medications; shown, never blocking.",
)
strawberry.enum(
    Provenance,
    name="SentenceProvenance",
    description="Whose words a sentence is in: the model's prose, findings set in fixed words by the program "
    "(ARRANGED, never AI prose), the model's checked rewrite of a failing sentence (REPAIRED), or the clinician's.",
)
strawberry.enum(
    SentenceOrigin,
    name="SentenceOrigin",
    description="SAID_TODAY (from this visit), CARRIED_FORWARD (from a prior signed note), CLINICIAN (typed in).",
)
strawberry.enum(
    Support,
    name="SentenceSupport",
    description="The claim check's verdict: SUPPORTED, UNSUPPORTED (no evidence), CONTRADICTED (e.g. asserted "
    "but denied in the transcript), DOSE_MISMATCH, OTHER_SCRIPT (letters of another script, e.g. Chinese, in the "
    "English text: never SUPPORTED, whatever else it gets right), WRONG_ACTOR (written in the first or second "
    'person, e.g. the patient\'s "I take…" copied into the note: the actor is wrong even if every word was said), '
    'WRONG_STATUS ("start" for a medication the visit says is already taken, "stop" for one nobody stopped), '
    "NOT_CHECKED (clinician-authored).",
)


@strawberry.enum(description="What wrote a draft.")
class DrafterKind(Enum):
    LLM = "LLM"
    DETERMINISTIC = "DETERMINISTIC"  # findings and evidence arranged into the template: not AI prose


@strawberry.type(description="What wrote the note's AI text.")
class Drafter:
    kind: DrafterKind = strawberry.field(description="LLM or DETERMINISTIC (arranged evidence, not AI prose).")
    model: str | None = strawberry.field(description="The model, for LLM drafts.")
    prompt_version: str = strawberry.field(description="Prompt (or rule) version.")
    fallback_reason: str | None = strawberry.field(
        description="Why a DETERMINISTIC draft was not written by the model, in fixed words: LLM_DISABLED, "
        "LLM_NOT_INSTALLED, LLM_NOT_BUILT (run `ambient llm build`), LLM_BUILD_CHANGED, LLM_UNSUPPORTED_CPU, "
        "LLM_MODEL_INVALID, LLM_START_FAILED, or LLM_FAILED:<error> when the model failed while drafting. "
        "Null when the model wrote it.",
    )


@strawberry.type(description="Audio a sentence rests on.")
class SentenceEvidence:
    segment_id: strawberry.ID = strawberry.field(description="The transcript segment.")
    start_ms: int = strawberry.field(description="Segment start, ms.")
    end_ms: int = strawberry.field(description="Segment end, ms.")


@strawberry.type(description="One sentence of a note, with where it came from and whether the transcript supports it.")
class NoteSentence:
    id: strawberry.ID = strawberry.field(description="Stable across versions while the sentence is unchanged.")
    text: str = strawberry.field(description="The sentence.")
    origin: SentenceOrigin = strawberry.field(description="Said today, carried forward, or typed by the clinician.")
    support: Support = strawberry.field(description="The claim check's label.")
    reasons: list[str] = strawberry.field(description="Why the check decided so (fixed codes).")
    evidence: list[SentenceEvidence] = strawberry.field(description="Transcript segments that support it.")
    finding_ids: list[strawberry.ID] = strawberry.field(description="Findings it states.")
    authored_by: AuthorKind = strawberry.field(description="AI or CLINICIAN.")
    provenance: Provenance = strawberry.field(description="MODEL, ARRANGED, REPAIRED or CLINICIAN.")
    original_text: str | None = strawberry.field(
        description=(
            "For a REPAIRED sentence, or an ARRANGED one that replaced a model sentence: the model's first "
            "wording, which failed the claim checks."
        )
    )

    @classmethod
    def of(cls, sentence: Sentence) -> NoteSentence:
        return cls(
            id=strawberry.ID(sentence.id),
            text=sentence.text,
            origin=sentence.origin,
            support=sentence.support,
            reasons=list(sentence.reasons),
            evidence=[
                SentenceEvidence(segment_id=strawberry.ID(e.segment_id), start_ms=e.start_ms, end_ms=e.end_ms)
                for e in sentence.evidence
            ],
            finding_ids=[strawberry.ID(f) for f in sentence.finding_ids],
            authored_by=sentence.authored_by,
            provenance=sentence.provenance,
            original_text=sentence.original_text,
        )


@strawberry.type(description="A section of the note (SUBJECTIVE, OBJECTIVE, ASSESSMENT, PLAN for SOAP).")
class NoteSection:
    kind: str = strawberry.field(description="Section kind from the template.")
    title: str = strawberry.field(description="Heading.")
    text: str = strawberry.field(description="The sentences joined.")
    sentences: list[NoteSentence] = strawberry.field(description="Sentences in order.")
    edited_by_clinician: bool = strawberry.field(description="True once a clinician changed it (never regenerated).")
    fallback_reason: str | None = strawberry.field(
        description="Why the deterministic drafter wrote this section of a model's draft, in fixed words: "
        "LLM_OTHER_SCRIPT:<letters> when the model twice wrote letters of another script. Its sentences are "
        "ARRANGED (findings and quotations, not AI prose). Null when the note's drafter wrote it."
    )

    @classmethod
    def of(cls, section: Section) -> NoteSection:
        return cls(
            kind=section.kind,
            title=section.title,
            text=section.text,
            sentences=[NoteSentence.of(s) for s in section.sentences],
            edited_by_clinician=section.edited_by_clinician,
            fallback_reason=section.fallback_reason,
        )


@strawberry.type(description="A transcript finding the note does not mention.")
class Omission:
    finding_id: strawberry.ID = strawberry.field(description="The finding left out.")
    kind: str = strawberry.field(description="problem or medication.")
    negated: bool = strawberry.field(description="A denial the note does not repeat (usually less important).")
    severity: OmissionSeverity = strawberry.field(
        description="CRITICAL omissions must be acknowledged (noteOmissionAcknowledge) before noteSign succeeds."
    )
    acknowledged_at: datetime | None = strawberry.field(
        description="When the clinician accepted leaving it out; null while open."
    )
    acknowledged_by_id: strawberry.Private[uuid.UUID | None]

    @strawberry.field(
        description="The e-mail of the clinician who acknowledged it.", extensions=[policy("note", "read")]
    )
    async def acknowledged_by(self, info: strawberry.Info) -> str | None:
        return await _email(info, self.acknowledged_by_id) if self.acknowledged_by_id else None

    @classmethod
    def of(cls, view: OmissionView) -> Omission:
        acknowledgement = view.acknowledgement
        return cls(
            finding_id=strawberry.ID(view.finding_id),
            kind=view.kind,
            negated=view.negated,
            severity=view.severity,
            acknowledged_at=acknowledgement.acknowledged_at if acknowledgement else None,
            acknowledged_by_id=acknowledgement.acknowledged_by if acknowledgement else None,
        )


@strawberry.type(description="A spoken passage that read like an instruction to the drafter: shown, never obeyed.")
class InstructionFlag:
    segment_id: strawberry.ID = strawberry.field(description="The transcript segment.")
    rule: str = strawberry.field(description="Which pattern matched.")


@strawberry.type(description="One immutable version of a note.")
class NoteVersion:
    version: int = strawberry.field(description="1 is the first AI draft.")
    author: str = strawberry.field(description="The clinician's e-mail, or 'AI'.")
    author_kind: AuthorKind = strawberry.field(description="AI or CLINICIAN.")
    content_hash: str = strawberry.field(description="SHA-256 of this version's text.")
    created_at: datetime = strawberry.field(description="When it was written.")


@strawberry.type(description="An addendum to a signed note. The signed text itself never changes.")
class NoteAmendment:
    id: strawberry.ID = strawberry.field(description="Stable identifier.")
    reason: str = strawberry.field(description="Why it was added.")
    text: str = strawberry.field(description="The addendum.")
    author: str = strawberry.field(description="The clinician's e-mail.")
    content_hash: str = strawberry.field(description="Chains the signed content, reason and text.")
    created_at: datetime = strawberry.field(description="When it was added.")


async def _email(info: strawberry.Info, user_id: uuid.UUID | None) -> str:
    if user_id is None:
        return "AI"
    user = await info.context.loaders.user.load(user_id)
    return user.email if user else "unknown"


@strawberry.type(description="The encounter's clinical note: AI draft, clinician edits, signature, addenda.")
class Note:
    id: strawberry.ID = strawberry.field(description="Stable identifier.")
    status: NoteStatus = strawberry.field(description="DRAFTING, DRAFT, SIGNED or FAILED.")
    status_reason: str | None = strawberry.field(description="Why FAILED (a code).")
    version: int = strawberry.field(description="Current version (pass as expectedVersion when editing).")
    template: str = strawberry.field(description="Template id, e.g. soap.")
    unsupported_count: int = strawberry.field(
        description="Sentences without support (incl. dose mismatches and other-script text)."
    )
    contradicted_count: int = strawberry.field(description="Sentences the transcript contradicts.")
    signed_at: datetime | None = strawberry.field(description="When it was signed.")
    content_hash: str | None = strawberry.field(description="SHA-256 of the signed text.")
    created_at: datetime = strawberry.field(description="When drafting began.")
    record: strawberry.Private[NoteRecord]

    @classmethod
    def of(cls, record: NoteRecord) -> Note:
        return cls(
            id=strawberry.ID(str(record.id)),
            status=record.status,
            status_reason=record.status_reason,
            version=record.current_version,
            template=record.template_id,
            unsupported_count=record.unsupported_count,
            contradicted_count=record.contradicted_count,
            signed_at=record.signed_at,
            content_hash=record.content_hash,
            created_at=record.created_at,
            record=record,
        )

    async def _versions(self, info: strawberry.Info) -> list[NoteVersionRecord]:
        versions: list[NoteVersionRecord] = await info.context.loaders.note_versions.load(self.record.id)
        return versions

    async def _current(self, info: strawberry.Info) -> NoteVersionRecord | None:
        return next((v for v in await self._versions(info) if v.version == self.record.current_version), None)

    @strawberry.field(description="The current version's sections.", extensions=[policy("note", "read")])
    async def sections(self, info: strawberry.Info) -> list[NoteSection]:
        current = await self._current(info)
        return [NoteSection.of(s) for s in current.sections] if current else []

    @strawberry.field(description="What wrote the AI text of the current version.", extensions=[policy("note", "read")])
    async def drafter(self, info: strawberry.Info) -> Drafter | None:
        ai = [v for v in await self._versions(info) if v.author_kind is AuthorKind.AI]
        if not ai:
            return None
        latest = ai[-1]
        return Drafter(
            kind=DrafterKind(latest.drafter_kind or "DETERMINISTIC"),
            model=latest.drafter_model,
            prompt_version=latest.prompt_version or "",
            fallback_reason=(latest.inputs or {}).get("drafter_fallback"),
        )

    @strawberry.field(
        description="Findings the current version leaves out, with severity and acknowledgement.",
        extensions=[policy("note", "read")],
    )
    async def omissions(self, info: strawberry.Info) -> list[Omission]:
        current = await self._current(info)
        if current is None or not current.omissions:
            return []
        loaders = info.context.loaders
        findings = await loaders.findings.load(self.record.encounter_id)
        acknowledgements = await loaders.omission_acknowledgements.load(self.record.id)
        return [Omission.of(view) for view in assess(current.omissions, findings, acknowledgements)]

    @strawberry.field(description="Spoken attempts to instruct the drafter.", extensions=[policy("note", "read")])
    async def flags(self, info: strawberry.Info) -> list[InstructionFlag]:
        current = await self._current(info)
        return [
            InstructionFlag(segment_id=strawberry.ID(f["segment_id"]), rule=f["rule"])
            for f in (current.flags if current else [])
        ]

    @strawberry.field(description="Every version, oldest first.", extensions=[policy("note", "read")])
    async def versions(self, info: strawberry.Info) -> list[NoteVersion]:
        return [
            NoteVersion(
                version=v.version,
                author=await _email(info, v.author_id),
                author_kind=v.author_kind,
                content_hash=v.content_hash,
                created_at=v.created_at,
            )
            for v in await self._versions(info)
        ]

    @strawberry.field(description="The signer's e-mail.", extensions=[policy("note", "read")])
    async def signed_by(self, info: strawberry.Info) -> str | None:
        return await _email(info, self.record.signed_by) if self.record.signed_by else None

    @strawberry.field(description="Addenda after signature, oldest first.", extensions=[policy("note", "read")])
    async def amendments(self, info: strawberry.Info) -> list[NoteAmendment]:
        records: list[AmendmentRecord] = await info.context.loaders.note_amendments.load(self.record.id)
        return [
            NoteAmendment(
                id=strawberry.ID(str(a.id)),
                reason=a.reason,
                text=a.text,
                author=await _email(info, a.author_id),
                content_hash=a.content_hash,
                created_at=a.created_at,
            )
            for a in records
        ]

    @strawberry.field(description="The encounter this note documents.", extensions=[policy("encounter", "read")])
    async def encounter_id(self) -> strawberry.ID:
        return strawberry.ID(str(self.record.encounter_id))
