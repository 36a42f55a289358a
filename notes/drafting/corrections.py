"""Corrections from findings: a sentence that gets one thing wrong is restated from what was said about it.

After the model's repairs, a model sentence still labelled
  - CONTRADICTED because it asserts problems the patient denied ("The patient has weight gain" after
    "any weight gain?" / "not really")  -> "Denies weight gain."
  - DOSE_MISMATCH on one drug ("imitrex 50 mg every 6 hours" when no dose of it was said)
                                        -> the drug's line from its findings: "Takes imitrex (sumatriptan)."
is replaced by that statement, citing the segments it was said in. Only when every problem the sentence
names was denied (and it names no drug), or every drug it names is that one drug: a sentence that also
says something true is left to the clinician, with its label. And only when the restatement checks
SUPPORTED on its own. Provenance
ARRANGED (restated findings, not model prose); `original_text` keeps the model's wording, so the clinician
sees exactly what was replaced.

A note that denies what the transcript affirms is not restated the other way: the NLP engine's "present"
is less precise than its negation (dev set: present P 0.81, negated P 0.94), so a restated "Reports X"
would too often be the engine's mistake in the clinician's note.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from nlp.types import MedicationFinding, Passage, ProblemFinding
from notes.drafting.claims import supported_alone
from notes.drafting.concepts import same_drug, same_problem
from notes.drafting.extraction import Extractor, finding_code
from notes.drafting.restate import MedicationGroups
from notes.drafting.types import (
    CheckedSentence,
    ClaimReport,
    Draft,
    DraftRequest,
    DraftSentence,
    SentenceSupport,
    SourceFinding,
)

# Reasons about the sentence's wording and numbers: restating from the finding cures them too.
_WORDING = ("words_not_in_transcript", "evidence_unrelated", "number_not_in_evidence", "no_evidence")


@dataclass(frozen=True, slots=True)
class _Candidate:
    checked: CheckedSentence
    sentence: DraftSentence


def correct_from_findings(
    draft: Draft, request: DraftRequest, report: ClaimReport, extractor: Extractor
) -> tuple[Draft, int]:
    """The draft with contradicted and dose-mismatched sentences restated from findings where that is
    safe (see the module docstring); (draft, sentences replaced)."""
    findings = {f.id: f for f in request.findings}
    meds = MedicationGroups(request)
    candidates = [
        _Candidate(c, draft.section(c.section_kind).sentences[c.index])
        for c in report.sentences
        if c.support in (SentenceSupport.CONTRADICTED, SentenceSupport.DOSE_MISMATCH)
    ]
    candidates = [c for c in candidates if c.sentence.origin == "SAID_TODAY" and c.sentence.provenance == "MODEL"]
    if not candidates:
        return draft, 0
    found = extractor.extract(
        [Passage(f"{c.checked.section_kind}#{c.checked.index}", c.sentence.text, "note") for c in candidates]
    )
    replaced: dict[tuple[str, int], DraftSentence] = {}
    for c in candidates:
        pid = f"{c.checked.section_kind}#{c.checked.index}"
        problems = [p for p in found.problems if p.evidence.passage_id == pid]
        drugs = [m for m in found.medications if m.evidence.passage_id == pid]
        conflicts = [findings[f] for f in c.checked.conflicting_finding_ids if f in findings]
        text = _restatement(c.checked, conflicts, problems, drugs, meds)
        if text is None:
            continue
        statement, cited = text
        candidate = DraftSentence(
            text=statement,
            origin="SAID_TODAY",
            segment_ids=tuple(dict.fromkeys(f.segment_id for f in cited)),
            finding_ids=tuple(f.id for f in cited),
            provenance="ARRANGED",
            original_text=c.sentence.text,
        )
        if supported_alone(candidate, c.checked.section_kind, draft, request, extractor):
            replaced[(c.checked.section_kind, c.checked.index)] = candidate
    if not replaced:
        return draft, 0
    sections = tuple(
        replace(s, sentences=tuple(replaced.get((s.kind, i), x) for i, x in enumerate(s.sentences)))
        for s in draft.sections
    )
    return replace(draft, sections=sections), len(replaced)


def _failing_concepts(checked: CheckedSentence) -> tuple[set[str], set[str]]:
    """(the reason codes, the concept names they name), leaving out the wording reasons."""
    codes: set[str] = set()
    names: set[str] = set()
    for reason in checked.reasons:
        code, _, name = reason.partition(":")
        if code in _WORDING:
            continue
        codes.add(code)
        names.add(name)
    return codes, names


def _restatement(
    checked: CheckedSentence,
    conflicts: Sequence[SourceFinding],
    problems: Sequence[ProblemFinding],
    drugs: Sequence[MedicationFinding],
    meds: MedicationGroups,
) -> tuple[str, tuple[SourceFinding, ...]] | None:
    codes, names = _failing_concepts(checked)
    if not names or not conflicts:
        return None
    if codes == {"asserted_but_denied"}:
        return _denial(conflicts, problems, drugs)
    if codes == {"dose_mismatch"} and len(names) == 1:
        return _medication(conflicts, drugs, meds)
    return None


def _denial(
    conflicts: Sequence[SourceFinding], problems: Sequence[ProblemFinding], drugs: Sequence[MedicationFinding]
) -> tuple[str, tuple[SourceFinding, ...]] | None:
    denied = [f for f in conflicts if f.kind == "problem" and f.negated and not f.family]
    if not denied or not problems or drugs:
        return None
    # Every problem the sentence names must be one the patient denied: "has X and Y" with only X denied
    # stays as it is (restating would lose Y).
    said: dict[str, SourceFinding] = {}
    for p in problems:
        match = next((f for f in denied if same_problem(p.text, finding_code(p), f.text, f.code)), None)
        if match is None:
            return None
        said.setdefault(match.text.lower(), match)
    names = list(said)
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"Denies {listed}.", tuple(said.values())


def _medication(
    conflicts: Sequence[SourceFinding], drugs: Sequence[MedicationFinding], meds: MedicationGroups
) -> tuple[str, tuple[SourceFinding, ...]] | None:
    group = meds.group_of(conflicts[0].id)
    if not group:
        return None
    anchor = group[0]
    for m in drugs:  # every drug the sentence names must be this one
        if not same_drug(m.name, finding_code(m), anchor.display or anchor.text, anchor.code):
            return None
    restated = meds.restate(group)
    if restated is None:
        return None
    return restated.sentence(), restated.findings
