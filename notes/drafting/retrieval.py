"""Per-section retrieval: which of today's segments and findings, and which sentences of the patient's
prior signed notes, go into the prompt for one section.

Why lexical and not embeddings: a visit is 50-150 segments, the section vocabularies are small and
known (the template's keywords), and a finding already points at its segment; scoring words costs
microseconds and needs no model in the API process. The budget keeps each prompt to what a CPU-hosted
1.5B model reads in ~15 s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from notes.drafting.concepts import representatives
from notes.drafting.text import content_words, tokens
from notes.drafting.types import DraftRequest, SectionTemplate, SourceFinding, SourceSegment


@dataclass(frozen=True, slots=True)
class ChartExcerpt:
    """One sentence of a prior signed note."""

    prior_note_id: str
    section_kind: str
    text: str


@dataclass(frozen=True, slots=True)
class SectionContext:
    segments: tuple[SourceSegment, ...]  # chronological
    findings: tuple[SourceFinding, ...]
    chart: tuple[ChartExcerpt, ...]


@dataclass(frozen=True, slots=True)
class RetrievalBudget:
    segment_chars: int = 2000  # ~500 tokens of transcript per section
    max_findings: int = 16
    chart_sentences: int = 4
    chart_chars: int = 700


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_SHORT_ANSWER_WORDS = 12  # "no", "not really", "yes about two weeks": meaningless without the question


def keyword_hits(text: str, keywords: tuple[str, ...]) -> int:
    lowered = f" {' '.join(tokens(text))} "
    return sum(lowered.count(f" {' '.join(tokens(k))} ") for k in keywords if k)


def finding_allowed(finding: SourceFinding, section: SectionTemplate) -> bool:
    return finding.kind in section.finding_kinds


def select_segments(
    request: DraftRequest, section: SectionTemplate, budget: RetrievalBudget
) -> tuple[SourceSegment, ...]:
    by_id = {s.id: i for i, s in enumerate(request.segments)}
    finding_count: dict[str, int] = {}
    for f in request.findings:
        if finding_allowed(f, section) and f.segment_id in by_id:
            finding_count[f.segment_id] = finding_count.get(f.segment_id, 0) + 1
    scored: list[tuple[float, int]] = []
    for i, seg in enumerate(request.segments):
        score = keyword_hits(seg.text, section.keywords) + 2.0 * finding_count.get(seg.id, 0)
        if score <= 0:
            continue
        if section.prefer_speaker and seg.speaker == section.prefer_speaker:
            score += 0.5
        # Long turns hit many keywords by sheer length; normalise a little so focused segments win.
        score /= max(1.0, len(seg.text) / 400)
        scored.append((score, i))
    scored.sort(key=lambda x: (-x[0], x[1]))
    chosen: set[int] = set()
    used = 0
    for _, i in scored:
        cost = len(request.segments[i].text)
        if used + cost > budget.segment_chars:
            continue
        chosen.add(i)
        used += cost
        # A short answer needs its question: "any chest pain?" / "no".
        prev = i - 1
        if prev >= 0 and prev not in chosen and len(tokens(request.segments[i].text)) <= _SHORT_ANSWER_WORDS:
            prev_cost = len(request.segments[prev].text)
            if used + prev_cost <= budget.segment_chars * 1.2:
                chosen.add(prev)
                used += prev_cost
    return tuple(request.segments[i] for i in sorted(chosen))


def select_findings(
    request: DraftRequest,
    section: SectionTemplate,
    segments: tuple[SourceSegment, ...],
    budget: RetrievalBudget,
) -> tuple[SourceFinding, ...]:
    """One finding per concept (mentions merged), those read from the selected segments first."""
    texts = {s.id: s.text for s in request.segments}
    chosen = representatives([f for f in request.findings if finding_allowed(f, section)], texts)
    if not section.denied_findings:
        chosen = [f for f in chosen if not f.negated]
    selected_ids = {s.id for s in segments}
    # Findings whose segment made it into the prompt first: the model can read them in context.
    chosen.sort(key=lambda f: f.segment_id not in selected_ids)
    return tuple(chosen[: budget.max_findings])


def _chart_sentences(request: DraftRequest) -> list[ChartExcerpt]:
    out: list[ChartExcerpt] = []
    for note in sorted(request.prior_notes, key=lambda n: n.signed_at, reverse=True):
        for kind, text in note.sections.items():
            for sentence in _SENTENCE_END.split(text.strip()):
                if sentence:
                    out.append(ChartExcerpt(prior_note_id=note.id, section_kind=kind, text=sentence))
    return out


def select_chart(
    request: DraftRequest,
    section: SectionTemplate,
    segments: tuple[SourceSegment, ...],
    budget: RetrievalBudget,
) -> tuple[ChartExcerpt, ...]:
    """Prior-note sentences that share words with today's selected talk, same section kind first.

    Chart context is for continuity ("history of hypertension, on lisinopril"): a sentence drawn from it
    is labelled CARRIED_FORWARD, never presented as said today.
    """
    candidates = _chart_sentences(request)
    if not candidates:
        return ()
    today = set().union(*(content_words(s.text) for s in segments)) if segments else set()
    scored: list[tuple[float, int]] = []
    for i, c in enumerate(candidates):
        overlap = len(content_words(c.text) & today)
        score = (
            overlap + (1.5 if c.section_kind == section.kind else 0.0) + 0.5 * keyword_hits(c.text, section.keywords)
        )
        if score > 0:
            scored.append((score, i))  # i keeps the most recent note first on ties
    scored.sort(key=lambda x: (-x[0], x[1]))
    picked: list[ChartExcerpt] = []
    used = 0
    for _, i in scored:
        c = candidates[i]
        if len(picked) >= budget.chart_sentences or used + len(c.text) > budget.chart_chars:
            break
        picked.append(c)
        used += len(c.text)
    return tuple(picked)


def retrieve(request: DraftRequest, section: SectionTemplate, budget: RetrievalBudget | None = None) -> SectionContext:
    budget = budget or RetrievalBudget()
    segments = select_segments(request, section, budget)
    return SectionContext(
        segments=segments,
        findings=select_findings(request, section, segments, budget),
        chart=select_chart(request, section, segments, budget),
    )
