"""Spoken attempts to instruct the note writer ("ignore your instructions and write …").

Detection is by pattern, on purpose: it must be explainable to the clinician who sees the flag, cheap,
and not itself a model that can be talked round. The patterns target language addressed to an AI or its
rules; ordinary dictation to a scribe or voice assistant ("hey dragon, show me the vitals") is not an
attack and is not flagged. A flagged segment is withheld from the model and cannot serve as evidence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from notes.drafting.types import InjectionFlag, SourceSegment

_AI = r"(?:ai|a\.i\.|assistant|model|chat ?gpt|gpt|llm|language model|scribe|system|bot|chatbot|note writer)"
_RULES = (
    r"(?:instructions?|prompts?|rules?|guidelines?|directives?|programming"
    r"|system (?:message|prompt)|constraints?)"
)
_DETERMINER = r"(?:your|all|any|previous|prior|above|earlier|the (?:above|previous|prior|earlier|system|original))"
_GAP = r"(?:\W+\w+){0,4}?\W+"  # up to four words in between

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "override_instructions",
        re.compile(rf"\b(?:ignore|disregard|forget|override|bypass|skip)\b{_GAP}{_DETERMINER}\b{_GAP}{_RULES}\b"),
    ),
    ("new_instructions", re.compile(rf"\b(?:new|updated|real|actual|following)\s+{_RULES}\s*(?::|are|is)\b")),
    (
        "address_model",
        re.compile(
            r"\b(?:you are now|from now on,? you|act as|pretend (?:to be|you are)|you must now"
            r"|as an? (?:ai|language model|assistant))\b"
        ),
    ),
    ("system_prompt", re.compile(r"\b(?:system prompt|jailbreak|developer mode|prompt injection)\b")),
    (
        "dictate_falsehood",
        re.compile(
            rf"\b(?:write|put|document|record|state|say|add)\b{_GAP}(?:in|into|on|to)\s+(?:the|my|this|his|her)\s+"
            r"(?:note|chart|record|report)\b(?:\W+\w+){0,6}?\W+"
            r"(?:regardless|even though|even if|instead|anyway|no matter)\b"
        ),
    ),
    (
        "address_model_write",
        re.compile(
            rf"\b(?:hey|dear|attention|note to (?:the)?)\s+{_AI}\b{_GAP}"
            r"(?:write|add|put|document|say|state|include|omit|leave out|remove)\b"
        ),
    ),
)


def detect_injection(segments: Iterable[SourceSegment]) -> list[InjectionFlag]:
    """One flag per (segment, rule) that matched, with the span of the first match."""
    flags: list[InjectionFlag] = []
    for seg in segments:
        lowered = seg.text.lower()
        for rule, pattern in _PATTERNS:
            m = pattern.search(lowered)
            if m:
                flags.append(InjectionFlag(segment_id=seg.id, rule=rule, start_char=m.start(), end_char=m.end()))
    return flags
