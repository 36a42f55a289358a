"""A note version's content: sections of sentences, each with its origin, support label and evidence.

Stored as JSON in the version row (versions are immutable, so the content never needs updating in
place); `content_hash` is the SHA-256 of the canonical text, which is what a signature covers.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from notes.visitnotes.status import AuthorKind, Provenance, SentenceOrigin, Support

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class EvidenceRef:
    segment_id: str
    start_ms: int
    end_ms: int


@dataclass(frozen=True, slots=True)
class Sentence:
    id: str
    text: str
    origin: SentenceOrigin
    support: Support
    authored_by: AuthorKind
    evidence: tuple[EvidenceRef, ...] = ()
    finding_ids: tuple[str, ...] = ()
    prior_note_ids: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()  # fixed-vocabulary codes from the claim checks
    provenance: Provenance = Provenance.MODEL
    original_text: str | None = None  # REPAIRED, or ARRANGED in place of a model sentence: the model's wording


@dataclass(frozen=True, slots=True)
class Section:
    kind: str
    title: str
    sentences: tuple[Sentence, ...]
    # Why the deterministic drafter wrote this section of a model's draft (e.g. "LLM_OTHER_SCRIPT:4").
    fallback_reason: str | None = None

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.sentences)

    @property
    def edited_by_clinician(self) -> bool:
        return any(s.authored_by is AuthorKind.CLINICIAN for s in self.sentences)


def normalize(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def split_sentences(text: str) -> list[str]:
    return [part for part in (normalize(p) for p in _SENTENCE_END.split(normalize(text))) if part]


def content_hash(sections: Sequence[Section]) -> str:
    canonical = [[s.kind, s.title, [sentence.text for sentence in s.sentences]] for s in sections]
    return hashlib.sha256(json.dumps(canonical, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()


def to_json(sections: Sequence[Section]) -> list[dict[str, Any]]:
    return [
        {
            "kind": section.kind,
            "title": section.title,
            "sentences": [
                {
                    "id": s.id,
                    "text": s.text,
                    "origin": s.origin.value,
                    "support": s.support.value,
                    "authored_by": s.authored_by.value,
                    "evidence": [[e.segment_id, e.start_ms, e.end_ms] for e in s.evidence],
                    "finding_ids": list(s.finding_ids),
                    "prior_note_ids": list(s.prior_note_ids),
                    "reasons": list(s.reasons),
                    "provenance": s.provenance.value,
                    "original_text": s.original_text,
                }
                for s in section.sentences
            ],
            "fallback_reason": section.fallback_reason,
        }
        for section in sections
    ]


def _default_provenance(authored_by: str) -> Provenance:
    return Provenance.CLINICIAN if authored_by == AuthorKind.CLINICIAN.value else Provenance.MODEL


def from_json(data: Sequence[Mapping[str, Any]]) -> tuple[Section, ...]:
    return tuple(
        Section(
            kind=section["kind"],
            title=section["title"],
            sentences=tuple(
                Sentence(
                    id=s["id"],
                    text=s["text"],
                    origin=SentenceOrigin(s["origin"]),
                    support=Support(s["support"]),
                    authored_by=AuthorKind(s["authored_by"]),
                    evidence=tuple(EvidenceRef(e[0], int(e[1]), int(e[2])) for e in s.get("evidence", [])),
                    finding_ids=tuple(s.get("finding_ids", [])),
                    prior_note_ids=tuple(s.get("prior_note_ids", [])),
                    reasons=tuple(s.get("reasons", [])),
                    provenance=Provenance(s.get("provenance") or _default_provenance(s["authored_by"])),
                    original_text=s.get("original_text"),
                )
                for s in section["sentences"]
            ),
            fallback_reason=section.get("fallback_reason"),
        )
        for section in data
    )


def apply_edit(section: Section, text: str) -> Section:
    """The clinician's text replaces the section. A sentence they kept word for word keeps its provenance
    (origin, evidence, support); anything they wrote or changed is theirs, not a claim for the checker."""
    kept = {normalize(s.text): s for s in section.sentences}
    sentences = []
    for line in split_sentences(text):
        previous = kept.pop(line, None)
        sentences.append(
            previous
            if previous is not None
            else Sentence(
                id=str(uuid.uuid4()),
                text=line,
                origin=SentenceOrigin.CLINICIAN,
                support=Support.NOT_CHECKED,
                authored_by=AuthorKind.CLINICIAN,
                provenance=Provenance.CLINICIAN,
            )
        )
    return Section(section.kind, section.title, tuple(sentences), section.fallback_reason)


def counts(sections: Sequence[Section]) -> dict[Support, int]:
    tally = dict.fromkeys(Support, 0)
    for section in sections:
        for sentence in section.sentences:
            tally[sentence.support] += 1
    return tally


def worklist_counts(sections: Sequence[Section]) -> tuple[int, int]:
    """(sentences the checks could not support, sentences the transcript contradicts): the worklist ranks
    notes by these. Dose mismatches and other-script text need the clinician as much as unsupported ones."""
    tally = counts(sections)
    flagged = sum(
        tally[s]
        for s in (
            Support.UNSUPPORTED,
            Support.DOSE_MISMATCH,
            Support.OTHER_SCRIPT,
            Support.WRONG_ACTOR,
            Support.WRONG_STATUS,
        )
    )
    return flagged, tally[Support.CONTRADICTED]
