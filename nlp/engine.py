"""The clinical NLP engine: passages in, problems and medications out.

    engine = ClinicalNlp.load()          # once per process (~1 s with a cached vocabulary)
    findings = engine.extract(passages)  # deterministic; safe to call repeatedly

Every finding is one mention, with evidence pointing at the words in its own passage. `nlp.summary` turns
mentions into one item per problem or drug.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from nlp.dialogue import Answer, answer_polarity, is_tag_question, question_starts
from nlp.dosage import parse_dosage
from nlp.lexicon.artifact import Vocabulary, load_vocabulary
from nlp.lexicon.norm import norm_token
from nlp.medication_status import is_lab_reference, medication_status, reply_stops
from nlp.types import Code, Evidence, Findings, MedicationFinding, Passage, ProblemFinding

# Bump when rules change; the full version also carries the vocabulary artifact's hash.
RULESET = "ambient-nlp-rules-1"
_CLINICIANS = frozenset({"doctor", "clinician", "provider", "physician", "nurse"})
_DRUG_WINDOW = 20  # words after a drug name that may carry its dose and frequency
_BEFORE_WINDOW = 6


@dataclass(slots=True)
class _Mention:
    """A matched entity plus the attributes the engine derives for it."""

    passage: int
    span: Any  # spaCy Span
    ref: Any  # nlp.pipeline.Ref
    cats: set[str]
    asked: bool = False
    answer: Answer = Answer.NONE
    answer_passage: int | None = None  # the reply to the question this mention was asked in


_REPAIR = frozenset({"or", ",", "i", "'m", "sorry", "excuse", "me", "mean", "uh", "um", "rather", "no", "actually"})


def _corrected(span: Any) -> bool:
    """A drug name the speaker takes back: "penicillin or, i'm sorry, amoxicillin"."""
    from nlp.pipeline import MEDICATION

    doc = span.doc
    nxt = next((e for e in doc.ents if e.label_ == MEDICATION and e.start >= span.end), None)
    if nxt is None or nxt.start - span.end > 8:
        return False
    between = [t.lower_ for t in doc[span.end : nxt.start]]
    return bool(between) and all(w in _REPAIR for w in between) and ("sorry" in between or "mean" in between)


def _question_start(sentence: Any) -> int:
    """Where a sentence's question begins. Mono speech recognition runs turns together ("I have had a
    headache for three days, no fever, are you taking any medicines?"): a question that opens after a
    comma asks only from there; the statements before it are another speaker's or the same one's."""
    words = [t.text for t in sentence]
    starts = question_starts(words)
    if starts and starts[0] > 0 and words[starts[0] - 1] == ",":
        return int(sentence.start) + starts[0]
    return int(sentence.start)


def _speaker(passage: Passage) -> str | None:
    who = (passage.speaker or "").lower()
    return None if who in ("", "unknown") else who


def _words_from(doc: Any, start: int, stop: int, words: int) -> list[str]:
    """Token texts from `start`, up to `stop` or until `words` non-punctuation tokens were taken."""
    out: list[str] = []
    n = 0
    for tok in doc[start:stop]:
        if n >= words:
            break
        out.append(tok.text)
        n += not tok.is_punct
    return out


def _concept(ref: Any) -> str:
    return str(ref.code or ref.text) if ref.kind != "drug" else f"drug:{ref.concept}"


class ClinicalNlp:
    """Built once per process; holds the spaCy pipeline and the vocabulary (read-only after load)."""

    def __init__(self, nlp: Any, vocabulary: Vocabulary) -> None:
        self._nlp = nlp
        self._vocab = vocabulary
        digest = hashlib.sha256(f"{RULESET}:{vocabulary.sha256}".encode()).hexdigest()[:12]
        self.ruleset_version = f"{RULESET}+{digest}"

    @classmethod
    def load(cls, cache_dir: Path | None = None) -> ClinicalNlp:
        from nlp.pipeline import build_pipeline  # spaCy is imported only when an engine is built

        vocabulary = load_vocabulary(cache_dir)
        return cls(build_pipeline(vocabulary), vocabulary)

    @property
    def vocabulary(self) -> Vocabulary:
        return self._vocab

    def extract_text(self, text: str) -> Findings:
        return self.extract([Passage(id="0", text=text)])

    def extract(self, passages: Sequence[Passage]) -> Findings:
        from nlp.pipeline import MEDICATION, REFS_KEY

        docs = list(self._nlp.pipe([p.text for p in passages]))
        mentions: list[_Mention] = []
        for pi, doc in enumerate(docs):
            refs = doc.user_data.get(REFS_KEY, {})
            for ent in doc.ents:
                cats = {m.category for m in ent._.modifiers}
                if "OTHER_PERSON" in cats and (passages[pi].speaker or "").lower() == "patient":
                    cats.add("FAMILY")  # "she has ..." said by the patient is about someone else
                ref = refs[(ent.start, ent.end)]
                if ref.negated:
                    cats.add("NEGATED_EXISTENCE")
                mentions.append(_Mention(pi, ent, ref, cats))
        self._apply_answers(passages, docs, mentions)
        problems: list[ProblemFinding] = []
        medications: list[MedicationFinding] = []
        for m in mentions:
            if m.span.label_ == MEDICATION:
                if not is_lab_reference(m.span.doc, m.span) and not _corrected(m.span):
                    medications.append(self._medication(passages[m.passage], m, docs))
            else:
                problems.append(self._problem(passages[m.passage], m))
        return Findings(tuple(problems), tuple(_share_frequency(medications)), self.ruleset_version)

    # ------------------------------------------------------------------ question / answer across turns
    def _apply_answers(self, passages: Sequence[Passage], docs: Sequence[Any], mentions: list[_Mention]) -> None:
        by_passage: dict[int, list[_Mention]] = {}
        for m in mentions:
            by_passage.setdefault(m.passage, []).append(m)
        for pi, doc in enumerate(docs):
            own = by_passage.get(pi)
            if not own:
                continue
            regions = self._question_regions(passages[pi], doc)
            if not regions:
                continue
            asked = [
                m
                for m in own
                if any(a <= m.span.start < b for a, b, _ in regions)
                and not m.cats & {"NEGATED_EXISTENCE", "POSSIBLE_EXISTENCE", "HYPOTHETICAL", "ALLERGY"}
            ]
            answer, reply = self._answer_after(passages, docs, pi)
            drugs = [m for m in own if m.ref.kind == "drug"]
            if drugs and reply is not None and any(t for _, _, t in regions):
                # "we have you on the prozac. are you taking that?": the reply speaks about the last drug named
                drugs[-1].answer_passage = reply
            if not asked:
                continue
            replied = {_concept(r.ref) for r in by_passage.get(reply, [])} if reply is not None else set()
            closing = {_concept(m.ref) for m in asked if any(t for a, b, t in regions if a <= m.span.start < b)}
            if answer is Answer.YES and (replied & closing or len(closing) > 1):
                # "any fever, chills?" / "yes": which one is not said; "a bit of joint pain" picks its own
                answer = Answer.NONE
            for m in asked:
                trailing = any(t for a, b, t in regions if a <= m.span.start < b)
                m.asked = True
                if _concept(m.ref) in replied:
                    continue  # the reply names it again ("no, no fever"): that mention carries the polarity
                # a "no" answers every question of the turn; a "yes" only the last one asked
                m.answer = answer if trailing or answer is Answer.NO else Answer.NONE
                m.answer_passage = reply if trailing else None

    @staticmethod
    def _question_regions(passage: Passage, doc: Any) -> list[tuple[int, int, bool]]:
        """Token ranges that ask something: (start, end, is the turn's closing question)."""
        sents = [s for s in doc.sents if s.text.strip(" .,?!")]
        if not sents:
            return []

        def asks(s: Any) -> bool:
            return bool(s.text.rstrip().endswith("?")) and not is_tag_question([t.text for t in s])

        if any(s.text.rstrip().endswith("?") for s in sents):
            closing = set()
            for s in reversed(sents):  # the closing run of questions is what the reply answers
                if not asks(s):
                    break
                closing.add(s.start)
            unknown = _speaker(passage) is None
            return [(_question_start(s) if unknown else s.start, s.end, s.start in closing) for s in sents if asks(s)]
        if _speaker(passage) not in (None, *_CLINICIANS):
            return []
        # no question mark (an unpunctuated transcript, or ASR that missed it): the closing sentence asks
        # when it opens a question ("any chest pain or tightness in your chest or anything like that")
        last = sents[-1]
        starts = question_starts([t.text for t in last])
        bounds = [*starts, len(last)]
        return [(last.start + st, last.start + bounds[k + 1], k == len(starts) - 1) for k, st in enumerate(starts)]

    @staticmethod
    def _answer_after(passages: Sequence[Passage], docs: Sequence[Any], pi: int) -> tuple[Answer, int | None]:
        """The reply to a question closing passage `pi`: the next passage by someone else. With unknown
        speakers (mono ASR) a fragment that is no answer ("anything,") is skipped once."""
        me = _speaker(passages[pi])
        for nxt in (pi + 1, pi + 2):
            if nxt >= len(passages):
                break
            other = _speaker(passages[nxt])
            if me is not None and me == other:  # one speaker going on
                break
            answer = answer_polarity([t.text for t in docs[nxt]])
            if answer is not Answer.NONE or me is not None or len(passages[nxt].text.split()) > 3:
                return answer, nxt
        return Answer.NONE, (pi + 1 if pi + 1 < len(passages) and _speaker(passages[pi + 1]) != me else None)

    # ------------------------------------------------------------------ findings
    def _evidence(self, passage: Passage, m: _Mention) -> Evidence:
        return Evidence(passage.id, m.span.start_char, m.span.end_char)

    def _problem(self, passage: Passage, m: _Mention) -> ProblemFinding:
        cats, ref = m.cats, m.ref
        negated = "NEGATED_EXISTENCE" in cats or (m.asked and m.answer is Answer.NO)
        unanswered = m.asked and m.answer is Answer.NONE
        code = None
        if ref.code:
            code = Code("ICD-10-CM", ref.code, self._vocab.descriptions.get(ref.code, ref.text))
        return ProblemFinding(
            text=m.span.text,
            code=code,
            negated=negated,
            historical="HISTORICAL" in cats,
            family="FAMILY" in cats,
            hypothetical="HYPOTHETICAL" in cats,
            uncertain="POSSIBLE_EXISTENCE" in cats or unanswered,
            evidence=self._evidence(passage, m),
            label=self._label(ref, m.span.text),
            asked=unanswered,
            kind="term" if ref.kind == "problem" else ("lab" if ref.kind == "lab" else "site"),  # weight: a site
        )

    def _label(self, ref: Any, said: str) -> str:
        if ref.kind in ("site", "lab", "weight"):
            label = str(ref.text)
            last = label.rsplit(" ", 1)[-1]
            for tok in said.lower().replace("-", " ").split():  # a plural as said: "abdominal masses"
                if tok != last and norm_token(tok) == last:
                    return label[: -len(last)] + tok
            return label
        return self._vocab.term_labels.get(ref.text) or said.lower()

    def _medication(self, passage: Passage, m: _Mention, docs: Sequence[Any]) -> MedicationFinding:
        from nlp.pipeline import MEDICATION

        span, ref = m.span, m.ref
        doc, sent = span.doc, span.sent
        stop = sent.end
        for e in doc.ents:  # the next drug's words are its own
            if e.label_ == MEDICATION and span.end <= e.start < stop:
                stop = e.start
                break
        after = _words_from(doc, span.end, stop, _DRUG_WINDOW)
        start = max(sent.start, span.start - _BEFORE_WINDOW)
        for e in doc.ents:
            if e.label_ == MEDICATION and start < e.end <= span.start:
                start = e.end
        before = [t.text for t in doc[start : span.start]]
        info = parse_dosage(after, before)
        status, historical = medication_status(doc, span, m.cats)
        if m.answer_passage is not None:  # "are you taking the metformin?" / "yes, twice a day"
            reply = docs[m.answer_passage]
            words = [t.text for t in reply]
            if reply_stops(words):
                status, historical = "stopped", True
            if not any(e.label_ == MEDICATION for e in reply.ents):
                extra = parse_dosage(words, near=False)
                info = replace(
                    info,
                    dose=info.dose or extra.dose,
                    unit=info.unit if info.dose else extra.unit,
                    frequency=info.frequency or extra.frequency,
                )
        concept = self._vocab.drug_concepts[ref.concept]
        codes: list[Code] = []
        if concept.drugbank_id:
            codes.append(Code("DrugBank", concept.drugbank_id, concept.generic))
        if concept.mesh_id:
            codes.append(Code("MeSH", concept.mesh_id, concept.generic))
        negated = "NEGATED_EXISTENCE" in m.cats or (m.asked and m.answer is Answer.NO)
        return MedicationFinding(
            text=span.text,
            name=concept.generic,
            code=codes[0] if codes else None,
            dose=info.dose,
            unit=info.unit,
            route=info.route,
            frequency=info.frequency,
            duration=info.duration,
            status=status,
            negated=negated,
            evidence=self._evidence(passage, m),
            codes=tuple(codes),
            allergy="ALLERGY" in m.cats,
            historical=historical,
            uncertain="POSSIBLE_EXISTENCE" in m.cats,
            brand=ref.brand,
            fuzzy=ref.fuzzy,
        )


def _share_frequency(meds: list[MedicationFinding]) -> list[MedicationFinding]:
    """ "i take crestor and olmesartan daily": drugs listed together share the frequency said after the last."""
    out = list(meds)

    def joined(a: MedicationFinding, b: MedicationFinding) -> bool:
        ev_a, ev_b = a.evidence, b.evidence
        return ev_a.passage_id == ev_b.passage_id and 0 <= ev_b.start_char - ev_a.end_char <= 8

    for i in range(len(out) - 2, -1, -1):  # backwards: the frequency said after the last drug
        a, b = out[i], out[i + 1]
        if not a.frequency and a.dose is None and b.frequency and joined(a, b):
            out[i] = replace(a, frequency=b.frequency)
    for i in range(1, len(out)):  # forwards: "every morning with my multivitamin and my vitamin d"
        a, b = out[i - 1], out[i]
        if not b.frequency and b.dose is None and a.frequency and joined(a, b):
            out[i] = replace(b, frequency=a.frequency)
    return out
