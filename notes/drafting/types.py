"""Plain data the drafter takes and returns. No database, no HTTP, no model imports here.

Ids are strings chosen by the caller (database ids, "t12.3" in the evaluation); the drafter never invents
one: every id in a `Draft` or `ClaimReport` is an id that was in the `DraftRequest`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

FindingKind = Literal["problem", "medication"]
Origin = Literal["SAID_TODAY", "CARRIED_FORWARD"]
DrafterKind = Literal["LLM", "DETERMINISTIC"]
# Who wrote a sentence's words: the model, the program (a finding restated in fixed words, or a quotation:
# arranged evidence, never AI prose), or the model's rewrite of a sentence that failed the claim checks
# (kept only because the rewrite passed them; the first wording is in `DraftSentence.original_text`).
SentenceProvenance = Literal["MODEL", "ARRANGED", "REPAIRED"]


@dataclass(frozen=True, slots=True)
class SourceSegment:
    """One stretch of today's transcript (a whisper segment or a dialogue turn)."""

    id: str
    start_ms: int
    end_ms: int
    speaker: str | None
    text: str


@dataclass(frozen=True, slots=True)
class SourceFinding:
    """A problem or medication the NLP engine read from one segment of today's transcript."""

    id: str
    kind: FindingKind
    text: str  # the words as said
    display: str  # the normalised name: ICD-10-CM display for problems, the generic for medications
    segment_id: str
    code: str | None = None  # "ICD-10-CM:I10", "DrugBank:DB00722"; used to match concepts across wordings
    negated: bool = False
    family: bool = False
    historical: bool = False
    hypothetical: bool = False
    uncertain: bool = False
    dose: str | None = None  # digits only, e.g. "500"
    unit: str | None = None  # "mg"
    frequency: str | None = None
    status: str | None = None  # medications: taking, started, stopped, changed, conditional, unknown
    allergy: bool = False  # medications: named as an allergy, not taken
    # Where in the segment's text it was said; lets the checks tell "any chest pain?" from "chest pain".
    start_char: int | None = None
    end_char: int | None = None

    @property
    def asserted(self) -> bool:
        """True when the transcript says the patient has / takes it (not denied, hedged or someone else's)."""
        return not (self.negated or self.family or self.hypothetical or self.uncertain)


@dataclass(frozen=True, slots=True)
class PriorNote:
    """A signed note from an earlier visit of the same patient: chart context, never today's evidence."""

    id: str
    signed_at: datetime
    sections: dict[str, str]  # section kind -> text


@dataclass(frozen=True, slots=True)
class SectionTemplate:
    kind: str  # "SUBJECTIVE", ...
    title: str
    guidance: str  # tells the model what belongs here; data, so a template can change it
    keywords: tuple[str, ...]  # retrieval hints: words that make a segment relevant to this section
    finding_kinds: tuple[FindingKind, ...]  # which findings are offered to this section
    prefer_speaker: str | None = None  # retrieval leans to this speaker's segments ("patient" for history)
    denied_findings: bool = True  # offer denials as facts? Not to an assessment: a small model "Denies <dx>."
    max_sentences: int = 8
    # What the deterministic drafter puts here, from a fixed vocabulary (see drafter.DETERMINISTIC_RULES).
    deterministic_rules: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NoteTemplate:
    id: str  # "soap"
    title: str
    version: str
    sections: tuple[SectionTemplate, ...]

    def section(self, kind: str) -> SectionTemplate:
        for s in self.sections:
            if s.kind == kind:
                return s
        raise KeyError(kind)


@dataclass(frozen=True, slots=True)
class DraftRequest:
    segments: tuple[SourceSegment, ...]
    findings: tuple[SourceFinding, ...]
    prior_notes: tuple[PriorNote, ...]
    template: NoteTemplate
    sections: tuple[str, ...] | None = None  # None = every section of the template, in template order

    def section_kinds(self) -> tuple[str, ...]:
        known = tuple(s.kind for s in self.template.sections)
        if self.sections is None:
            return known
        unknown = [k for k in self.sections if k not in known]
        if unknown:
            raise ValueError(f"template {self.template.id!r} has no section(s) {unknown}")
        # Template order, whatever order the caller named them in: a regenerated section must read the same.
        return tuple(k for k in known if k in self.sections)


@dataclass(frozen=True, slots=True)
class DraftSentence:
    text: str
    origin: Origin
    segment_ids: tuple[str, ...] = ()
    finding_ids: tuple[str, ...] = ()
    prior_note_ids: tuple[str, ...] = ()  # set when origin is CARRIED_FORWARD
    provenance: SentenceProvenance = "MODEL"
    original_text: str | None = None  # REPAIRED, or ARRANGED in place of a model sentence: the model's wording


@dataclass(frozen=True, slots=True)
class DraftSection:
    kind: str
    title: str
    sentences: tuple[DraftSentence, ...]
    incomplete: bool = False  # the model ran out of tokens: complete sentences kept, the rest missing
    # Why the deterministic drafter wrote this section of a model's draft, in fixed words (as
    # `DrafterInfo.fallback_reason`): "LLM_OTHER_SCRIPT:<letters>" when the model wrote another script twice.
    # Its sentences are ARRANGED, never AI prose. None when the draft's drafter wrote it.
    fallback_reason: str | None = None

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.sentences)


@dataclass(frozen=True, slots=True)
class DrafterInfo:
    """Provenance of a draft: what wrote it. `DETERMINISTIC` is arranged evidence, never AI prose."""

    kind: DrafterKind
    model: str | None
    prompt_version: str
    # Why a DETERMINISTIC draft was not written by the model, in fixed words (e.g. LLM_NOT_BUILT,
    # LLM_UNSUPPORTED_CPU, LLM_FAILED:APITimeoutError); None when no model was asked for or it wrote the draft.
    fallback_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Draft:
    sections: tuple[DraftSection, ...]
    drafter: DrafterInfo
    input_digest: str  # sha256 of the request's inputs: same digest + same drafter = same question asked
    # Segments left out of the model's input because they looked like instructions to it (see claims).
    withheld_segment_ids: tuple[str, ...] = ()
    # Set by `finalize.finalize_draft` (the grounding pass after drafting); 0 before it runs.
    arranged_sentences: int = 0  # medication sentences added from findings the draft left out
    repair_attempts: int = 0  # failing sentences the model was asked to rewrite
    repaired_sentences: int = 0  # rewrites that passed the checks and replaced the failing sentence
    corrected_sentences: int = 0  # contradicted / dose-mismatched sentences restated from findings

    def section(self, kind: str) -> DraftSection:
        for s in self.sections:
            if s.kind == kind:
                return s
        raise KeyError(kind)


class SentenceSupport(enum.StrEnum):
    SUPPORTED = "SUPPORTED"
    UNSUPPORTED = "UNSUPPORTED"  # no evidence, or a claim nothing in the evidence says
    CONTRADICTED = "CONTRADICTED"  # e.g. asserted in the note, denied in the transcript
    DOSE_MISMATCH = "DOSE_MISMATCH"  # the drug was said, with another dose
    # Letters of another script (Chinese, Cyrillic, ...) in an English note: a clinician cannot check what
    # they say, so whatever else the sentence gets right it is never SUPPORTED (see `script`).
    OTHER_SCRIPT = "OTHER_SCRIPT"
    WRONG_ACTOR = "WRONG_ACTOR"  # first or second person ("I take…", "your pressure…"): someone's words copied
    WRONG_STATUS = "WRONG_STATUS"  # "start" for a drug the visit says is continued, "stop" for one never stopped


@dataclass(frozen=True, slots=True)
class CheckedSentence:
    section_kind: str
    index: int  # position inside its section
    support: SentenceSupport
    reasons: tuple[str, ...]  # short, fixed-vocabulary codes plus concept names, e.g. "medication_not_spoken:warfarin"
    conflicting_finding_ids: tuple[str, ...] = ()
    # Where the checker found support: the cited segments plus where the sentence's concepts were said.
    evidence_segment_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Omission:
    """A transcript finding the draft does not mention."""

    finding_id: str
    kind: FindingKind
    display: str
    negated: bool = False  # a denial the note does not repeat; the UI may rank these lower


@dataclass(frozen=True, slots=True)
class InjectionFlag:
    """A spoken passage that reads like an instruction to the note writer: shown, never obeyed."""

    segment_id: str
    rule: str  # which pattern matched, e.g. "override_instructions"
    start_char: int
    end_char: int


@dataclass(frozen=True, slots=True)
class ClaimReport:
    sentences: tuple[CheckedSentence, ...]
    omissions: tuple[Omission, ...]
    injections: tuple[InjectionFlag, ...]
    checker_version: str
    counts: dict[str, int] = field(default_factory=dict)  # SentenceSupport value -> number of sentences

    @property
    def supported_share(self) -> float:
        total = len(self.sentences)
        return 1.0 if total == 0 else self.counts.get(SentenceSupport.SUPPORTED.value, 0) / total
