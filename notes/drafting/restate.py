"""Medications restated from findings in fixed words ("Takes lisinopril 10 mg once a day."): the lines the
grounding pass adds for drugs the draft left out, and the corrections of wrong doses.

A line can only come from findings, and a finding only from the transcript. Allergies, denied drugs, drugs
only asked about, past drugs, vaccines, and a drug the speaker corrected ("penicillin, sorry, amoxicillin")
are never restated as taken.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from notes.drafting.concepts import concept_key, mark_allergies
from notes.drafting.injection import detect_injection
from notes.drafting.prompts import spoken_name
from notes.drafting.types import DraftRequest, SourceFinding

_VACCINE = re.compile(r"vaccin|toxoid")
# "penicillin or, I'm sorry, amoxicillin": the speaker took the first drug back.
_CORRECTED = re.compile(r"^\W*(?:or\W+)?(?:i'?m sorry|i am sorry|sorry|i mean|no wait|scratch that)\b")
_VERB = {"started": "Start", "stopped": "Stop", "conditional": "If indicated, start"}


@dataclass(frozen=True, slots=True)
class RestatedMedication:
    """What today's visit says about one current drug, as one note line."""

    name: str  # as said, with the generic for a brand: "Lasix (furosemide)"
    dose: str | None  # "40 mg"
    frequency: str | None
    status: str  # the latest status said: taking, started, changed, stopped, conditional, unknown
    findings: tuple[SourceFinding, ...]  # the mentions the line stands on (dose, status)

    def sentence(self) -> str:
        detail = " ".join(x for x in (self.name, self.dose or "", self.frequency or "") if x)
        if self.status == "changed":
            change = " ".join(x for x in (self.dose or "", self.frequency or "") if x)
            return f"Change {self.name} to {change}." if change else f"Change {self.name} dose."
        if self.status == "taking":
            return f"Takes {detail}."
        if self.status in _VERB:
            return f"{_VERB[self.status]} {detail}."
        return f"Medication discussed: {detail}."


class MedicationGroups:
    """Today's medication findings grouped by drug, with what is needed to judge each mention: allergies
    marked across segments, segments flagged as instructions to the model left out."""

    def __init__(self, request: DraftRequest) -> None:
        flagged = {f.segment_id for f in detect_injection(request.segments)}
        segments = [s for s in request.segments if s.id not in flagged]
        self.texts: Mapping[str, str] = {s.id: s.text for s in segments}
        self.after: Mapping[str, str] = {
            s.id: segments[i + 1].text if i + 1 < len(segments) else "" for i, s in enumerate(segments)
        }
        self.groups: dict[str, list[SourceFinding]] = {}
        for f in mark_allergies(request.findings, request.segments):
            if f.kind == "medication" and f.segment_id in self.texts:
                self.groups.setdefault(concept_key(f), []).append(f)

    def group_of(self, finding_id: str) -> list[SourceFinding]:
        return next((g for g in self.groups.values() if any(f.id == finding_id for f in g)), [])

    def restate(self, group: Sequence[SourceFinding]) -> RestatedMedication | None:
        """The drug's line, or None when it must not be listed as taken (see the module docstring)."""
        if not group or any(f.allergy for f in group):
            return None  # an allergy anywhere in the visit: never list the drug as taken
        if any(_VACCINE.search((f.display or f.text).lower()) for f in group):
            return None
        current = [f for f in group if _current(f) and not self._corrected(f)]
        if not current:
            return None
        # The plan's words win: a started/changed/stopped mention with a dose, else the last with a dose.
        with_dose = [f for f in current if f.dose]
        planned = [f for f in with_dose if f.status in ("started", "changed", "stopped")]
        chosen = (planned or with_dose or current)[-1]
        # The status goes with the dose: "increase lasix from 20 to 60 mg ... use the lasix" is a change.
        said = (
            chosen
            if chosen in planned
            else next((f for f in reversed(current) if f.status not in (None, "unknown")), chosen)
        )
        timed = chosen if chosen.frequency else next((f for f in reversed(current) if f.frequency), chosen)
        brand = next((f for f in current if spoken_name(f) != f.text), chosen)
        return RestatedMedication(
            name=spoken_name(brand),
            dose=" ".join(x for x in (chosen.dose, chosen.unit) if x) or None,
            frequency=timed.frequency,
            status=said.status or "unknown",
            findings=tuple(dict.fromkeys((chosen, said, timed))),
        )

    def _corrected(self, f: SourceFinding) -> bool:
        if f.end_char is None:
            return False
        tail = self.texts.get(f.segment_id, "")[f.end_char :] + " " + self.after.get(f.segment_id, "")
        return _CORRECTED.match(tail.lower()) is not None


def _current(f: SourceFinding) -> bool:
    return f.asserted and not (f.allergy or f.historical)
