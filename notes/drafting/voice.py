"""Who speaks in a note sentence, and which medication status it claims: two checks word overlap cannot make.

A clinical note is written about the patient, in the third person. A drafted sentence in the first person
singular ("I take metformin") or the second person ("your blood pressure is ...") copies someone's words
from the conversation, and its actor is wrong even when every word was said. "We" is left alone: "we will
recheck" is ordinary note style. Quoted speech (the deterministic drafter's quotes) is not the note's voice.
"""

from __future__ import annotations

import re

_QUOTED = re.compile(r"“[^”]*”|\"[^\"]*\"")
_FIRST_PERSON = re.compile(r"\b(?:I|I'm|I've|I'd|I'll)\b|\b(?:my|me|mine|myself)\b", re.I)
_SECOND_PERSON = re.compile(r"\b(?:you|your|yours|yourself|you're|you've|you'll)\b", re.I)
# "type I diabetes", "grade I", "stage I": a Roman numeral, not a speaker.
_NUMERAL_I = re.compile(r"\b(?:type|grade|stage|class|phase|level|part|factor|tier)\s+I\b", re.I)


def wrong_voice(text: str) -> str | None:
    """ "first_person" or "second_person" when the note's own words (quotes left out) use that voice."""
    own = _NUMERAL_I.sub(" ", _QUOTED.sub(" ", text))
    if any(m.group(0) != "i" for m in _FIRST_PERSON.finditer(own)):  # a lower-case "i" is not the pronoun
        return "first_person"
    if _SECOND_PERSON.search(own):
        return "second_person"
    return None


def status_conflict(note_status: str, said: list[str]) -> str | None:
    """A medication status the note claims against what the visit said of that drug (asserted mentions only).

    "started" (start, begin, initiate, new) for a drug the visit only speaks of as already taken, and
    "stopped" for one it only speaks of as taken or started, are reasons; anything vaguer is not judged.
    """
    if not said:
        return None
    known = set(said)
    if note_status == "started" and known == {"taking"}:
        return "started_but_continued"
    if note_status == "stopped" and known <= {"taking", "started"}:
        return "stopped_but_not_said"
    return None
