"""The drafter for when no model is available: findings restated and the clinician's own words quoted,
arranged into the template. Labelled DETERMINISTIC in the API; never presented as AI prose.

Every sentence is either a finding in fixed words ("Denies fever and chills.", "Continue lisinopril 10 mg
once a day.") or a verbatim quotation ('Doctor said: "…"'), each linked to the segment it came from.
Lists stay short (three items) so that a negation in the sentence clearly covers every item.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from notes.drafting.concepts import in_question, representatives
from notes.drafting.drafter import input_digest, usable_request
from notes.drafting.retrieval import RetrievalBudget, keyword_hits, select_segments
from notes.drafting.types import (
    Draft,
    DrafterInfo,
    DraftRequest,
    DraftSection,
    DraftSentence,
    SectionTemplate,
    SourceFinding,
    SourceSegment,
)

DETERMINISTIC_VERSION = "deterministic-v2"
_LIST_MAX = 3
_QUOTE_WORDS = 40
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+")
# Unpunctuated speech still asks: "any joint pain fever weight loss". A question quoted as a statement
# would read as a finding, so such quotes are skipped.
_ASKS = re.compile(r"\b(?:any|have you|do you|did you|are you|were you|how about|what about|is there|ever)\b")
_VERB = {
    "started": "Start",
    "stopped": "Stop",
    "changed": "Change",
    "conditional": "If indicated, start",
    "taking": "Continue",
}


def _join(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _said(f: SourceFinding) -> str:
    """The words as said, with the generic when it was said as a brand ("Lasix (furosemide)")."""
    if f.kind == "medication" and f.display and f.display.lower() not in f.text.lower() and len(f.display) < 30:
        return f"{f.text} ({f.display})"
    return f.text


def _medication(f: SourceFinding) -> str:
    dose = " ".join(x for x in (f.dose, f.unit) if x)
    return " ".join(x for x in (_said(f), dose, f.frequency or "") if x)


def _quote(seg: SourceSegment, keywords: tuple[str, ...]) -> str | None:
    """The segment's most relevant statement (a window of words for unpunctuated speech); no questions."""
    parts = [
        p
        for p in _SENTENCE_SPLIT.split(seg.text.strip())
        if len(p.split()) >= 3 and not p.rstrip().endswith("?") and not _ASKS.search(p.lower())
    ]
    if not parts:
        return None
    text = max(parts, key=lambda p: sum(k in p.lower() for k in keywords))
    words = text.split()
    if len(words) > _QUOTE_WORDS:
        lowered = [w.lower() for w in words]
        hit = next((i for i, w in enumerate(lowered) if any(w.startswith(k.split()[0]) for k in keywords)), 0)
        start = max(0, hit - 8)
        text = ("… " if start else "") + " ".join(words[start : start + _QUOTE_WORDS]) + " …"
    return f"{(seg.speaker or 'speaker').capitalize()} said: “{text}”"


class DeterministicDrafter:
    def __init__(self, budget: RetrievalBudget | None = None, *, fallback_reason: str | None = None) -> None:
        """`fallback_reason`: why this drafter stands in for the model (shown on every note it writes)."""
        self._budget = budget or RetrievalBudget(segment_chars=1200)
        self._fallback_reason = fallback_reason

    @property
    def info(self) -> DrafterInfo:
        return DrafterInfo(
            kind="DETERMINISTIC",
            model=None,
            prompt_version=DETERMINISTIC_VERSION,
            fallback_reason=self._fallback_reason,
        )

    async def draft(self, request: DraftRequest) -> Draft:
        usable, withheld = usable_request(request)
        sections = tuple(self._section(usable, request.template.section(k)) for k in request.section_kinds())
        return Draft(
            sections=sections,
            drafter=self.info,
            input_digest=input_digest(request),
            withheld_segment_ids=withheld,
        )

    def _section(self, request: DraftRequest, section: SectionTemplate) -> DraftSection:
        texts = {s.id: s.text for s in request.segments}
        merged = representatives(request.findings, texts)
        problems = [f for f in merged if f.kind == "problem"]
        meds = [f for f in merged if f.kind == "medication" and not (f.negated or f.allergy)]
        out: list[DraftSentence] = []

        def say(prefix: str, items: list[SourceFinding], name: Callable[[SourceFinding], str] = _said) -> None:
            for i in range(0, len(items), _LIST_MAX):
                chunk = items[i : i + _LIST_MAX]
                out.append(
                    DraftSentence(
                        text=f"{prefix} {_join([name(f) for f in chunk])}.",
                        origin="SAID_TODAY",
                        segment_ids=tuple(dict.fromkeys(f.segment_id for f in chunk)),
                        finding_ids=tuple(f.id for f in chunk),
                        provenance="ARRANGED",
                    )
                )

        for rule in section.deterministic_rules:
            if rule == "reported_problems":
                say("Reports", [f for f in problems if f.asserted and not f.historical])
            elif rule == "denied_problems":
                say("Denies", [f for f in problems if f.negated and not f.family])
            elif rule == "history":
                say("History of", [f for f in problems if f.asserted and f.historical])
            elif rule == "family_history":
                say("Family history of", [f for f in problems if f.family and not f.negated])
            elif rule == "diagnoses":
                # ICD-10-CM chapter R is symptoms and signs; the rest name conditions.
                say("Assessment:", [f for f in problems if f.asserted and f.code and ":R" not in f.code])
            elif rule == "possible_problems":
                hedged = [f for f in problems if (f.hypothetical or f.uncertain) and not f.negated]
                say("Possible", [f for f in hedged if not in_question(f, texts.get(f.segment_id, ""))])
            elif rule == "current_medications":
                say("Takes", [f for f in meds if f.status in ("taking", "unknown", None)], _medication)
            elif rule == "medication_changes":
                for f in meds:
                    if f.status in _VERB:
                        say(_VERB[f.status or "taking"], [f], _medication)
            elif rule == "quotes":
                self._quotes(request, section, out)
        return DraftSection(kind=section.kind, title=section.title, sentences=tuple(out[: section.max_sentences]))

    def _quotes(self, request: DraftRequest, section: SectionTemplate, out: list[DraftSentence]) -> None:
        covered = {s for sentence in out for s in sentence.segment_ids}
        for seg in select_segments(request, section, self._budget):
            if seg.id in covered or (section.prefer_speaker and seg.speaker != section.prefer_speaker):
                continue
            if not keyword_hits(seg.text, section.keywords):
                continue  # chosen only for its findings, which the rules above already state
            quote = _quote(seg, section.keywords)
            if quote:
                out.append(DraftSentence(text=quote, origin="SAID_TODAY", segment_ids=(seg.id,), provenance="ARRANGED"))
