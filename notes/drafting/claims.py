"""The grounding gate: every drafted sentence gets a label, and what the draft left out is listed.

Method: re-extract problems and medications from each sentence with the same NLP engine that read the
transcript, then compare concept by concept with the transcript findings:
  - a drug in the note that nobody said                      -> UNSUPPORTED (medication_not_spoken)
  - the drug was said, with another dose                      -> DOSE_MISMATCH
  - asserted in the note, only denied in the transcript (or
    the other way round, or the patient's vs family's)        -> CONTRADICTED
  - a number the cited evidence does not contain, a problem
    the transcript never mentions, or no evidence at all      -> UNSUPPORTED
  - letters of another script (Chinese, Cyrillic, ...)        -> OTHER_SCRIPT (`script`)
  - "start" for a drug the visit says is taken, "stop" for one
    nobody stopped                                            -> WRONG_STATUS (`voice`)
  - first or second person ("I take", "your pressure")        -> WRONG_ACTOR (`voice`)
Precedence: CONTRADICTED > DOSE_MISMATCH > OTHER_SCRIPT > WRONG_STATUS > WRONG_ACTOR > UNSUPPORTED > SUPPORTED
(each names the failure more exactly than the unsupported words it brings along). Segments flagged as instructions to
the model are never evidence. Nothing is removed from the draft: the clinician sees every label.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from nlp.types import MedicationFinding, Passage, ProblemFinding
from notes.drafting.concepts import (
    asked_at,
    concept_key,
    dose_values,
    drug_words,
    in_question,
    mark_allergies,
    same_drug,
    same_problem,
)
from notes.drafting.extraction import Extractor, finding_code
from notes.drafting.injection import detect_injection
from notes.drafting.script import other_script_count
from notes.drafting.text import content_words, numbers, stem, tokens, word_set, written_numbers
from notes.drafting.types import (
    CheckedSentence,
    ClaimReport,
    Draft,
    DraftRequest,
    DraftSection,
    DraftSentence,
    InjectionFlag,
    Omission,
    PriorNote,
    SentenceSupport,
    SourceFinding,
    SourceSegment,
)
from notes.drafting.voice import status_conflict, wrong_voice

CHECKER_VERSION = "claims-v6"
_MIN_WORDS_FOR_OVERLAP = 3
_NEIGHBOURS = 2  # segments either side of a cited one: question, answer and the follow-up
_MIN_OVERLAP_SHARE = 0.34  # of a sentence's own words, found in its evidence
_MAX_NOVEL_SHARE = 0.34  # of a sentence's own words, never said in the visit at all
# Failures of the cited lines only, which another line of the visit may cure (see `_anchor`).
_RELINKABLE = ("evidence_unrelated", "number_not_in_evidence:")
# Words a note uses that a conversation rarely does: they carry no claim of their own.
_NOTE_WORDS = frozenset(
    stem(w)
    for w in word_set(
        """
        patient patients report reports reported deny denies denied present presents presented complain
        complains complaint history current currently continue continues start starts started stop stops
        schedule scheduled follow followup follow-up appointment advise advised instruct instructed recommend
        recommended evaluate evaluation assess assessment plan diagnosis diagnosed impression exam examination
        physical finding findings vital vitals sign signs note visit clinic return presents state states
        noted consistent likely status chronic acute mild moderate severe bilateral left right daily twice
        times weekly monthly hour hours day days week weeks month months year years old milligram milligrams
        tablet tablets dose doses medication medications medicine symptom symptoms therapy treatment
        management monitor recheck also given include includes including male female man woman take takes
        taking use uses using every already ongoing since due related associated degree degrees fahrenheit
        celsius bpm mmhg percent once needed change changed possible possibly prescribe prescribed indicated
        ask asks asked asking note notes noted noting mention mentions mentioned explain explains explained
        discuss discusses discussed
        """
    )
)
_RANK = {
    SentenceSupport.SUPPORTED: 0,
    SentenceSupport.UNSUPPORTED: 1,
    SentenceSupport.WRONG_ACTOR: 2,
    SentenceSupport.WRONG_STATUS: 3,
    SentenceSupport.OTHER_SCRIPT: 4,
    SentenceSupport.DOSE_MISMATCH: 5,
    SentenceSupport.CONTRADICTED: 6,
}


@dataclass(slots=True)
class _Verdict:
    support: SentenceSupport = SentenceSupport.SUPPORTED
    reasons: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)

    def add(self, support: SentenceSupport, reason: str, conflicts: Sequence[str] = ()) -> None:
        if _RANK[support] > _RANK[self.support]:
            self.support = support
        self.reasons.append(reason)
        self.conflicts.extend(conflicts)


@dataclass(frozen=True, slots=True)
class _Transcript:
    segments: dict[str, SourceSegment]
    order: dict[str, int]
    findings: tuple[SourceFinding, ...]  # only those from usable (not flagged) segments
    prior: dict[str, PriorNote]
    ages: frozenset[float]  # ages said anywhere in the visit (see `ages_said`)
    word_cache: dict[str, set[str]] = field(default_factory=dict)

    def evidence_ids(self, sentence: DraftSentence, matched: Sequence[str] = ()) -> list[str]:
        """Cited segments, segments of cited findings, and segments where the sentence's own problems and
        drugs were said (`matched` finding ids): a model that cites the wrong line for a true statement
        gets its link repaired, not its statement rejected."""
        wanted = set(sentence.finding_ids) | set(matched)
        ids = [s for s in sentence.segment_ids if s in self.segments]
        ids += [f.segment_id for f in self.findings if f.id in wanted]
        return list(dict.fromkeys(ids))

    def window(self, sentence: DraftSentence, matched: Sequence[str] = ()) -> str:
        """The text a sentence's evidence covers: its evidence segments and their neighbours (a question,
        its answer and the follow-up are often separate segments), and cited prior notes."""
        parts = [self.window_around(self.evidence_ids(sentence, matched))]
        for pid in sentence.prior_note_ids:
            if pid in self.prior:
                parts.extend(self.prior[pid].sections.values())
        return "\n".join(parts)

    def window_around(self, seg_ids: Sequence[str]) -> str:
        """Those segments and their neighbours, in order."""
        ordered = list(self.segments)
        picked: set[str] = set()
        for sid in seg_ids:
            if sid in self.order:
                i = self.order[sid]
                picked.update(ordered[max(0, i - _NEIGHBOURS) : i + _NEIGHBOURS + 1])
        return "\n".join(self.segments[s].text for s in ordered if s in picked)

    def statements(self, seg_id: str) -> str:
        """A segment's text without its questions: "have you had labs done?" asserts nothing."""
        return " ".join(c for c in _CLAUSE.findall(self.segments[seg_id].text) if not c.rstrip().endswith("?"))

    def words(self, seg_id: str) -> set[str]:
        """Content words of a segment's statements (cached: anchoring ranks every segment)."""
        cached = self.word_cache.get(seg_id)
        if cached is None:
            cached = self.word_cache[seg_id] = content_words(self.statements(seg_id))
        return cached

    def all_text(self) -> str:
        return "\n".join(s.text for s in self.segments.values())


def _has_evidence(sentence: DraftSentence, t: _Transcript) -> bool:
    ids = {f.id for f in t.findings}
    return (
        any(s in t.segments for s in sentence.segment_ids)
        or any(f in ids for f in sentence.finding_ids)
        or any(p in t.prior for p in sentence.prior_note_ids)
    )


def _mentions(text: str, words: set[str]) -> bool:
    have = set(tokens(text))
    return bool(words) and words <= have


def _check_medication(m: MedicationFinding, sentence: DraftSentence, t: _Transcript, v: _Verdict) -> list[str]:
    """Returns the ids of transcript findings this mention stands for."""
    carried = sentence.origin == "CARRIED_FORWARD"
    matches = [
        f
        for f in t.findings
        if f.kind == "medication" and same_drug(m.name, finding_code(m), f.display or f.text, f.code)
    ]
    matches += [
        f for f in t.findings if f.kind == "medication" and f not in matches and same_drug(m.text, None, f.text, None)
    ]
    source_text = t.window(sentence) if carried else t.all_text()
    words = drug_words(m.name) or drug_words(m.text)
    if not matches and not (_mentions(source_text, words) or _mentions(source_text, drug_words(m.text))):
        v.add(SentenceSupport.UNSUPPORTED, f"medication_not_spoken:{m.name}")
        return []
    said_as_allergy = bool(matches) and all(f.allergy for f in matches)
    if said_as_allergy and not (m.allergy or m.negated):
        v.add(SentenceSupport.CONTRADICTED, f"allergy_as_medication:{m.name}", [f.id for f in matches])
    if m.dose and not carried:
        said = set().union(*(dose_values(f.dose) for f in matches)) if matches else set()
        # Doses the NLP engine missed still count if the number was said where the drug was.
        near = "\n".join(t.segments[f.segment_id].text for f in matches if f.segment_id in t.segments) or t.window(
            sentence
        )
        said |= numbers(near)
        if not (dose_values(m.dose) & said):
            v.add(SentenceSupport.DOSE_MISMATCH, f"dose_mismatch:{m.name}", [f.id for f in matches])
    if not carried and not (m.negated or m.uncertain or m.historical or m.allergy):
        said_status = [f.status for f in matches if f.asserted and not f.allergy and f.status]
        if conflict := status_conflict(m.status, said_status):
            v.add(SentenceSupport.WRONG_STATUS, f"{conflict}:{m.name}", [f.id for f in matches])
    return [f.id for f in matches]


_LEADING_DENIAL = re.compile(r"^\W*(?:patient\s+)?(?:denies|denied|no|negative for|without|has no|does not have)\b")
_CONTRAST = re.compile(r"\b(?:but|however|although|except|reports|endorses|admits|has)\b")


_LEADING_HEDGE = re.compile(
    r"^\W*(?:possible|possibly|probable|suspected|suspect|rule out|r/o|concern for|concerned about|may have|"
    r"might have|likely|question of|differential)\b"
)


# A hedge inside the sentence scopes over the list that follows it: "has possible body aches, vomiting and
# belly pain" hedges all three (the engine's ConText window often stops after the second).
_HEDGE = re.compile(r"\b(?:possible|possibly|probable|suspected|suspect|rule out|concern for|may have|might have)\b")


def _cue_covers(cue: re.Pattern[str], p: ProblemFinding, text: str, *, opening: bool) -> bool:
    """Does `cue` ("Denies", "possible") come before `p` (at the sentence's opening when `opening`), with
    nothing turning it in between: a contrast ("…, but reports D") or a clause break?"""
    lowered = text.lower()
    start = p.evidence.start_char
    before = [cue.match(lowered)] if opening else list(cue.finditer(lowered, 0, start))
    match = before[-1] if before else None
    if match is None or match.end() > start:
        return False
    between = lowered[match.end() : start]
    return _CONTRAST.search(between) is None and not any(mark in between for mark in ".;")


def _note_hedged(p: ProblemFinding, text: str) -> bool:
    return (
        p.hypothetical
        or p.uncertain
        or _cue_covers(_LEADING_HEDGE, p, text, opening=True)
        or _cue_covers(_HEDGE, p, text, opening=False)
    )


def _note_negated(p: ProblemFinding, text: str) -> bool:
    """Negated in the note sentence. A sentence that opens with a denial ("Denies A, B and C") denies its
    whole list unless something turns it ("…, but reports D"); the NLP engine scopes negation narrowly
    (right for run-on speech, too narrow for a note's lists), so the note side widens it here."""
    return p.negated or _cue_covers(_LEADING_DENIAL, p, text, opening=True)


def _check_problem(p: ProblemFinding, sentence: DraftSentence, t: _Transcript, v: _Verdict) -> list[str]:
    name = p.code.display if p.code else p.text
    negated = _note_negated(p, sentence.text)
    if sentence.origin == "CARRIED_FORWARD":
        if not (content_words(p.text) & content_words(t.window(sentence))):
            v.add(SentenceSupport.UNSUPPORTED, f"problem_not_in_chart:{p.text}")
        return []
    matches = [f for f in t.findings if f.kind == "problem" and same_problem(p.text, finding_code(p), f.text, f.code)]
    if not matches:
        words = content_words(p.text)
        if words and not words <= content_words(t.all_text()):
            v.add(SentenceSupport.UNSUPPORTED, f"problem_not_in_transcript:{name}")
        return []
    if _note_hedged(p, sentence.text) or asked_at(sentence.text, p.evidence.end_char):
        return [f.id for f in matches]  # a hedge or a question in the note asserts nothing to contradict
    same_person = [f for f in matches if f.family == p.family]
    if not same_person:
        v.add(SentenceSupport.CONTRADICTED, f"experiencer_mismatch:{name}", [f.id for f in matches])
        return [f.id for f in matches]
    # "Any chest pain?" asserts nothing; the statements decide (the question's mention is often left
    # un-negated when the reply repeats the words: "no chest pain").
    texts = {sid: seg.text for sid, seg in t.segments.items()}
    pool = [f for f in same_person if not in_question(f, texts.get(f.segment_id, ""))] or same_person
    ids = [f.id for f in pool]
    affirmed = any(not (f.negated or f.hypothetical or f.uncertain) for f in pool)
    denied = any(f.negated for f in pool)
    if not negated and not affirmed:
        if denied:
            v.add(SentenceSupport.CONTRADICTED, f"asserted_but_denied:{name}", ids)
        else:
            v.add(SentenceSupport.UNSUPPORTED, f"asserted_but_uncertain:{name}", ids)
    elif negated and not denied:
        if affirmed:
            v.add(SentenceSupport.CONTRADICTED, f"denied_but_asserted:{name}", ids)
        else:
            v.add(SentenceSupport.UNSUPPORTED, f"denial_not_said:{name}", ids)
    return [f.id for f in matches]


Issue = tuple[SentenceSupport, str]


def _own_words(sentence: DraftSentence, spans: list[tuple[int, int]]) -> set[str]:
    """The sentence's content words outside its recognised problems and drugs (`spans`)."""
    text = sentence.text
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + " " + text[end:]
    return content_words(text) - _NOTE_WORDS


def _wording_issues(
    sentence: DraftSentence, spans: list[tuple[int, int]], window: str, vocabulary: set[str]
) -> list[Issue]:
    """The words outside recognised problems and drugs (those have their own checks): most should be in
    the cited evidence, and few may be words nobody said in the whole visit ("biopsy", "dermatologist")."""
    words = _own_words(sentence, spans)
    if not spans and (not words or len(tokens(sentence.text)) < 2):
        # "The patient had", "<sentence>", "S1.": a fragment states nothing a clinician can check.
        return [(SentenceSupport.UNSUPPORTED, "no_claim")]
    if not words:
        return []
    novel = sorted(words - vocabulary)
    # One unusual word is wording ("contributing"); two or more, or a third of the sentence, is content.
    if len(novel) >= 3 or (len(novel) >= 2 and len(novel) / len(words) >= _MAX_NOVEL_SHARE):
        return [(SentenceSupport.UNSUPPORTED, "words_not_in_transcript:" + ",".join(novel[:5]))]
    if window and len(words) >= _MIN_WORDS_FOR_OVERLAP:
        shared = words & content_words(window)
        if len(shared) / len(words) < _MIN_OVERLAP_SHARE:
            return [(SentenceSupport.UNSUPPORTED, "evidence_unrelated")]
    return []


# An age is said once in a visit ("a 58 year old male", "I'm 44 now") and restated in the note's opening
# line, which the model cites to the history it summarises: a stated age is held to the whole visit.
_AGE_IN_NOTE = re.compile(r"\b(\d{1,3})[ -]years?[ -]old\b", re.I)
_AGE_SAID = re.compile(
    r"\b((?:[a-z]+|\d{1,3})(?:[ -][a-z]+)?)[ -]years?[ -]old\b|\b(?:i'm|i am|he's|she's|he is|she is)\s+"
    r"(\d{1,3}|[a-z]+(?:[ -][a-z]+)?)\s+(?:now|years)\b"
)


def ages_said(text: str) -> set[float]:
    # "fifty two" reads as 50 and 52: the compound is the larger.
    return {max(found) for m in _AGE_SAID.finditer(text.lower()) if (found := numbers(m.group(1) or m.group(2)))}


def _evidence_issues(
    sentence: DraftSentence,
    spans: list[tuple[int, int]],
    window: str,
    dose_numbers: set[float],
    vocabulary: set[str],
    ages: frozenset[float],
) -> list[Issue]:
    """Numbers and wording measured against the text of the evidence (`window`); a stated age against the
    ages said anywhere in the visit (`ages`)."""
    issues: list[Issue] = []
    stated_ages = {float(m.group(1)) for m in _AGE_IN_NOTE.finditer(sentence.text)}
    missing = written_numbers(sentence.text) - dose_numbers - numbers(window) - (stated_ages & ages)
    if missing and window:
        issues.append(
            (SentenceSupport.UNSUPPORTED, "number_not_in_evidence:" + ",".join(f"{n:g}" for n in sorted(missing)))
        )
    return issues + _wording_issues(sentence, spans, window, vocabulary)


_ANCHOR_CANDIDATES = 3
_CLAUSE = re.compile(r"[^.?!]+[.?!]*")
_ANCHOR_OVERLAP_SHARE = 0.5  # stricter than for cited lines: the best of many segments is chosen


def _anchor(
    sentence: DraftSentence,
    spans: list[tuple[int, int]],
    dose_numbers: set[float],
    vocabulary: set[str],
    t: _Transcript,
) -> str | None:
    """A segment of today's visit that supports the sentence's numbers and wording when the lines the
    model cited do not: the model cited the wrong line for a true statement, so its link is repaired
    (as for problems and drugs). The best-overlapping segments are tried with a stricter overlap."""
    words = _own_words(sentence, spans)
    if not words:
        return None
    ranked = sorted(t.segments, key=lambda sid: -len(words & t.words(sid)))[:_ANCHOR_CANDIDATES]
    for sid in ranked:
        # The line itself must state most of the sentence; its neighbours may hold the numbers (an answer).
        strong = len(words & t.words(sid)) / len(words) >= _ANCHOR_OVERLAP_SHARE
        window = t.window_around([sid])
        if strong and not _evidence_issues(sentence, spans, window, dose_numbers, vocabulary, t.ages):
            return sid
    return None


def _nearest(matched: Sequence[str], sentence: DraftSentence, t: _Transcript) -> list[str]:
    """Of the findings a sentence's concepts matched, one per concept: the one said closest to the cited
    segments (or the first, when nothing valid was cited)."""
    cited = [t.order[s] for s in sentence.segment_ids if s in t.order]
    by_key: dict[str, tuple[int, str]] = {}
    for f in t.findings:
        if f.id not in matched or f.segment_id not in t.order:
            continue
        pos = t.order[f.segment_id]
        distance = min((abs(pos - c) for c in cited), default=pos)
        key = concept_key(f)
        if key not in by_key or distance < by_key[key][0]:
            by_key[key] = (distance, f.id)
    return [fid for _, fid in by_key.values()]


def check_claims(
    draft: Draft,
    findings: Sequence[SourceFinding],
    segments: Sequence[SourceSegment],
    extractor: Extractor,
    *,
    prior_notes: Sequence[PriorNote] = (),
) -> ClaimReport:
    injections = detect_injection(segments)
    flagged = {f.segment_id for f in injections} | set(draft.withheld_segment_ids)
    usable = [s for s in segments if s.id not in flagged]
    t = _Transcript(
        segments={s.id: s for s in usable},
        order={s.id: i for i, s in enumerate(usable)},
        findings=tuple(f for f in mark_allergies(findings, segments) if f.segment_id not in flagged),
        prior={n.id: n for n in prior_notes},
        ages=frozenset(ages_said("\n".join(s.text for s in usable))),
    )
    located: list[tuple[str, int, DraftSentence]] = [
        (section.kind, i, s) for section in draft.sections for i, s in enumerate(section.sentences)
    ]
    passages = [Passage(id=f"{k}#{i}", text=s.text, speaker="note") for k, i, s in located]
    extracted = extractor.extract(passages) if passages else None
    problems: dict[str, list[ProblemFinding]] = {}
    meds: dict[str, list[MedicationFinding]] = {}
    spans: dict[str, list[tuple[int, int]]] = {}
    if extracted is not None:
        for pf in extracted.problems:
            problems.setdefault(pf.evidence.passage_id, []).append(pf)
        for mf in extracted.medications:
            meds.setdefault(mf.evidence.passage_id, []).append(mf)
        for ev in [x.evidence for x in extracted.problems] + [x.evidence for x in extracted.medications]:
            spans.setdefault(ev.passage_id, []).append((ev.start_char, ev.end_char))
    vocabulary = content_words(t.all_text())
    for note in prior_notes:
        vocabulary |= content_words(" ".join(note.sections.values()))

    checked: list[CheckedSentence] = []
    covered: set[str] = set()
    for kind, i, sentence in located:
        pid = f"{kind}#{i}"
        v = _Verdict()
        covered.update(f for f in sentence.finding_ids)
        if foreign := other_script_count(sentence.text):
            v.add(SentenceSupport.OTHER_SCRIPT, f"other_script:{foreign}")
        if voice := wrong_voice(sentence.text):
            v.add(SentenceSupport.WRONG_ACTOR, voice)
        if not _has_evidence(sentence, t):
            v.add(SentenceSupport.UNSUPPORTED, "no_evidence")
        dose_numbers: set[float] = set()
        matched: list[str] = []
        for m in meds.get(pid, []):
            matched += _check_medication(m, sentence, t, v)
            dose_numbers |= dose_values(m.dose)
        for p in problems.get(pid, []):
            matched += _check_problem(p, sentence, t, v)
        covered.update(matched)
        # Evidence for the number and wording checks: where the sentence's own concepts were said, but
        # only the statements nearest the cited lines (a drug said ten times should not open the whole visit).
        nearest = _nearest(matched, sentence, t)
        window = t.window(sentence, nearest)
        issues = _evidence_issues(sentence, spans.get(pid, []), window, dose_numbers, vocabulary, t.ages)
        anchor = None
        if issues and sentence.origin == "SAID_TODAY" and all(r.startswith(_RELINKABLE) for _, r in issues):
            anchor = _anchor(sentence, spans.get(pid, []), dose_numbers, vocabulary, t)
            if anchor is not None:
                issues = []
        for support, reason in issues:
            v.add(support, reason)
        evidence = t.evidence_ids(sentence, nearest) + ([anchor] if anchor else [])
        checked.append(
            CheckedSentence(
                section_kind=kind,
                index=i,
                support=v.support,
                reasons=tuple(dict.fromkeys(v.reasons)),
                conflicting_finding_ids=tuple(dict.fromkeys(v.conflicts)),
                evidence_segment_ids=tuple(dict.fromkeys(evidence)),
            )
        )
    omissions = tuple(
        Omission(finding_id=f.id, kind=f.kind, display=f.display or f.text, negated=f.negated)
        for f in t.findings
        if f.id not in covered
    )
    counts = {s.value: 0 for s in SentenceSupport}
    for c in checked:
        counts[c.support.value] += 1
    return ClaimReport(
        sentences=tuple(checked),
        omissions=omissions,
        injections=tuple(injections),
        checker_version=CHECKER_VERSION,
        counts=counts,
    )


def supported_alone(
    sentence: DraftSentence, kind: str, draft: Draft, request: DraftRequest, extractor: Extractor
) -> bool:
    """Does `sentence` check SUPPORTED on its own, as the only sentence of section `kind` of `draft`? The test
    a replacement for a failing sentence must pass (model repairs, corrections from findings)."""
    section = DraftSection(kind=kind, title=draft.section(kind).title, sentences=(sentence,))
    report = check_claims(
        replace(draft, sections=(section,)),
        request.findings,
        request.segments,
        extractor,
        prior_notes=request.prior_notes,
    )
    return bool(report.sentences) and report.sentences[0].support is SentenceSupport.SUPPORTED


__all__ = ["CHECKER_VERSION", "InjectionFlag", "check_claims", "detect_injection", "supported_alone"]
