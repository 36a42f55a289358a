"""The spaCy/medspaCy pipeline: tokenizer -> sentence splitter -> concept matcher -> ConText.

The concept matcher is ours: a longest-match lookup of normalised token sequences in the vocabulary
artifact (tens of thousands of terms; building medspaCy TargetRules for all of them would take seconds at
every start), plus the site and lab composition rules. It sets `doc.ents` (labels PROBLEM and MEDICATION)
and keeps what each entity refers to in `doc.user_data`, so no global span extension is needed.
"""

# No `from __future__ import annotations` here: spaCy validates factory signatures at run time.
from dataclasses import dataclass
from typing import Any

import medspacy  # noqa: F401 - registers the medspacy_context factory
import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span

from nlp.composition import Composed, analyte_code, lab_findings, site_findings, weight_changes
from nlp.context_rules import context_rules
from nlp.fuzzy import FuzzyDrugs, medication_context
from nlp.lexicon.artifact import Vocabulary
from nlp.lexicon.drugs_common import COMMON_DRUGS
from nlp.lexicon.lay_terms import MODIFIER_TERMS, NEEDS_NEARBY, NOT_A_PROBLEM_BEFORE, SITE_REQUIRED
from nlp.lexicon.norm import SKIP_TOKENS, norm_key, norm_token

PROBLEM = "PROBLEM"
MEDICATION = "MEDICATION"
REFS_KEY = "ambient_refs"
_MATCHER = "ambient_concepts"
# A drug name followed by one of these is a lab value ("testosterone levels", "iron count").
_LAB_FOLLOWERS = frozenset(
    {"level", "lab", "test", "count", "result", "value", "number", "saturation", "sat", "panel", "study"}
)
_SITE_REQUIRED_KEYS = frozenset(norm_token(w) for w in SITE_REQUIRED)
_NEARBY = {norm_token(k): frozenset(norm_token(w) for w in v) for k, v in NEEDS_NEARBY.items()}
_MODIFIERS = frozenset(norm_token(w) for w in MODIFIER_TERMS)
_NOT_BEFORE = frozenset(norm_token(w) for w in NOT_A_PROBLEM_BEFORE)


@dataclass(frozen=True, slots=True)
class Ref:
    """What an entity refers to."""

    kind: str  # "problem" (vocabulary term), "site", "lab", "weight" (composed), "drug"
    concept: int  # index into the vocabulary's concept table, -1 when composed
    text: str  # canonical words
    code: str | None  # ICD-10-CM code for problems
    brand: bool = False
    negated: bool = False  # negation inside the span itself
    fuzzy: bool = False  # a near-miss spelling of a drug name (speech recognition)


@dataclass(frozen=True, slots=True)
class _Cand:
    start: int
    end: int
    priority: int
    label: str
    ref: Ref


class ConceptMatcher:
    def __init__(self) -> None:
        self.vocabulary: Vocabulary | None = None
        self._prefixes: frozenset[str] = frozenset()
        self._max = 1
        self._fuzzy = FuzzyDrugs(())

    def set_vocabulary(self, vocabulary: Vocabulary) -> None:
        prefixes: set[str] = set()
        for table in (vocabulary.problem_terms, vocabulary.drug_terms):
            for key in table:
                words = key.split(" ")
                for i in range(1, len(words)):
                    prefixes.add(" ".join(words[:i]))
        self.vocabulary = vocabulary
        self._prefixes = frozenset(prefixes)
        self._fuzzy = FuzzyDrugs(n for generic, brands in COMMON_DRUGS for n in (generic, *brands))
        self._max = vocabulary.max_term_tokens

    def __call__(self, doc: Doc) -> Doc:
        index = [t.i for t in doc if t.text not in SKIP_TOKENS and not t.is_space]
        norms = [norm_token(doc[i].text) for i in index]
        sent_begins = {s.start for s in doc.sents} if doc.has_annotation("SENT_START") else set()
        starts: list[int] = []  # per normalised token: where its sentence begins
        current = 0
        for k, i in enumerate(index):
            if i in sent_begins:
                current = k
            starts.append(current)
        cands = self._terms(norms) + self._composed(norms, starts)
        cands = [c for c in cands if not _names_something_else(c, norms)]
        cands.sort(key=lambda c: (-(c.end - c.start), c.priority, c.start))
        taken = [False] * len(norms)
        chosen: list[_Cand] = []
        for cand in cands:  # longest first, non-overlapping
            if any(taken[cand.start : cand.end]):
                continue
            for k in range(cand.start, cand.end):
                taken[k] = True
            chosen.append(cand)
        chosen.sort(key=lambda c: c.start)
        spans: list[Span] = []
        refs: dict[tuple[int, int], Ref] = {}
        for cand in _merge_modifiers(chosen, norms):
            start, end = index[cand.start], index[cand.end - 1] + 1
            spans.append(Span(doc, start, end, label=cand.label))
            refs[(start, end)] = cand.ref
        doc.ents = spans
        doc.user_data[REFS_KEY] = refs
        return doc

    def _terms(self, norms: list[str]) -> list[_Cand]:
        """Longest vocabulary term starting at each token."""
        vocab = self._vocab()
        out: list[_Cand] = []
        for p in range(len(norms)):
            best: _Cand | None = None
            key = ""
            for n in range(1, min(self._max, len(norms) - p) + 1):
                key = norms[p] if n == 1 else f"{key} {norms[p + n - 1]}"
                if key in _NEARBY and not _NEARBY[key] & set(norms[max(0, p - 5) : p + n + 5]):
                    pass  # "rub it in": not the heart sound
                elif key in vocab.problem_terms and key not in _SITE_REQUIRED_KEYS:
                    concept = vocab.problem_terms[key]
                    code = vocab.problem_concepts[concept][0]
                    best = _Cand(p, p + n, 0, PROBLEM, Ref("problem", concept, key, code))
                elif key in vocab.drug_terms:
                    nxt = norms[p + n] if p + n < len(norms) else ""
                    if nxt not in _LAB_FOLLOWERS:
                        concept, brand = vocab.drug_terms[key]
                        best = _Cand(p, p + n, 0, MEDICATION, Ref("drug", concept, key, None, brand))
                if key not in self._prefixes:
                    break
            if best is None and key not in self._prefixes:
                best = self._near_miss(norms, p)
            if best is not None:
                out.append(best)
        return out

    def _near_miss(self, norms: list[str], p: int) -> _Cand | None:
        """A word that is no term but a drug name misheard, said where a medication is discussed."""
        vocab = self._vocab()
        word = norms[p]
        context = medication_context(norms, p, p + 1) if word not in vocab.problem_terms else 0
        found = self._fuzzy.match(word) if context else None
        if found is None or found[1] > context:  # two slips need a dose with its unit beside the word
            return None
        hit = vocab.drug_terms.get(norm_key([found[0]]))
        if hit is None:
            return None
        return _Cand(p, p + 1, 3, MEDICATION, Ref("drug", hit[0], norm_key([found[0]]), None, hit[1], fuzzy=True))

    def _composed(self, norms: list[str], starts: list[int]) -> list[_Cand]:
        vocab = self._vocab()
        out: list[_Cand] = []
        for comp in site_findings(norms, starts):
            priority = -1 if comp.kind == "attached" else 2  # an attached site beats the bare term
            out.append(_Cand(comp.start, comp.end, priority, PROBLEM, self._site_ref(comp)))
        for comp in weight_changes(norms):
            concept = vocab.problem_terms.get(comp.text)
            code = vocab.problem_concepts[concept][0] if concept is not None else None
            out.append(_Cand(comp.start, comp.end, 1, PROBLEM, Ref("weight", -1, comp.text, code)))
        for comp in lab_findings(norms):
            code = analyte_code(comp.site, comp.high)
            out.append(_Cand(comp.start, comp.end, 1, PROBLEM, Ref("lab", -1, comp.text, code, negated=comp.negated)))
        return out

    def _vocab(self) -> Vocabulary:
        if self.vocabulary is None:
            raise RuntimeError("ConceptMatcher has no vocabulary")
        return self.vocabulary

    def _site_ref(self, comp: Composed) -> Ref:
        vocab = self._vocab()
        lat = comp.laterality if comp.laterality in ("right", "left") else "unspecified"
        named = norm_key(f"{comp.site} {comp.finding}".split())
        if named in vocab.term_labels:  # "my throat hurts" is the curated "sore throat"
            concept = vocab.problem_terms[named]
            code = vocab.problem_concepts[concept][0]
            return Ref("site", -1, vocab.term_labels[named], code, negated=comp.negated)
        found = vocab.site_codes.get(f"{comp.finding}|{comp.site}|{lat}")
        if found is None:
            for words in (f"{comp.site} {comp.finding}", comp.finding):
                concept_ix = vocab.problem_terms.get(norm_key(words.split()))
                if concept_ix is not None:
                    found = vocab.problem_concepts[concept_ix][0]
                    break
        return Ref("site", -1, comp.text, found, negated=comp.negated)


_ENDS = frozenset({".", "?", "!"})  # "..." marks a pause or a self-correction, not an end
_DIGIT_WORDS = frozenset({"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "oh"})


def _numberish(text: str) -> bool:
    return text.lower() in _DIGIT_WORDS or text.isdigit()


@Language.component("ambient_sentences")
def split_sentences(doc: Doc) -> Doc:
    """Sentences end at . ? ! - except a spoken decimal point ("zero . zero five percent", "seven . one")."""
    for i, tok in enumerate(doc):
        if i == 0:
            tok.is_sent_start = True
            continue
        prev = doc[i - 1]
        starts = prev.text in _ENDS and tok.text not in _ENDS and tok.text not in ("...", "…")
        if starts and prev.text == "." and i >= 2 and _numberish(doc[i - 2].text) and _numberish(tok.text):
            starts = False
        tok.is_sent_start = starts
    return doc


def _names_something_else(cand: _Cand, norms: list[str]) -> bool:
    """ "stress test", "covid vaccine", "pain medicine": a problem word naming a test or a thing."""
    return cand.label == PROBLEM and cand.ref.kind != "lab" and cand.end < len(norms) and norms[cand.end] in _NOT_BEFORE


def _merge_modifiers(chosen: list[_Cand], norms: list[str]) -> list[_Cand]:
    """ "scaly erythematous plaques": describing terms join the finding right after them."""
    out: list[_Cand] = []
    for c in chosen:
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.label == PROBLEM
            and c.label == PROBLEM
            and prev.end == c.start
            and all(w in _MODIFIERS for w in norms[prev.start : prev.end])
        ):
            out[-1] = _Cand(prev.start, c.end, c.priority, PROBLEM, c.ref)
        else:
            out.append(c)
    return out


@Language.factory(_MATCHER)
def _make_matcher(nlp: Language, name: str) -> ConceptMatcher:
    return ConceptMatcher()


def build_pipeline(vocabulary: Vocabulary) -> Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("ambient_sentences")
    matcher: Any = nlp.add_pipe(_MATCHER)
    matcher.set_vocabulary(vocabulary)
    # Attributes come from each entity's modifiers (the engine reads span._.modifiers), so ConText sets none.
    context: Any = nlp.add_pipe(
        "medspacy_context",
        config={"rules": None, "span_attrs": None},
    )
    context.add(context_rules())
    return nlp
