"""Dose, unit, route, frequency and duration from the words around a medication mention.

Works on lower-cased tokens with spoken numbers turned into digits, so "five hundred milligrams twice a day"
and "500mg BID" read the same.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from nlp.numbers import find_numbers, format_number

_UNIT_WORDS: dict[str, str] = {
    "mg": "mg",
    "mgs": "mg",
    "milligram": "mg",
    "milligrams": "mg",
    "milligramme": "mg",
    "mcg": "mcg",
    "microgram": "mcg",
    "micrograms": "mcg",
    "ug": "mcg",
    "g": "g",
    "gram": "g",
    "grams": "g",
    "gm": "g",
    "ml": "ml",
    "mls": "ml",
    "milliliter": "ml",
    "milliliters": "ml",
    "millilitre": "ml",
    "cc": "ml",
    "ccs": "ml",
    "unit": "unit",
    "units": "unit",
    "iu": "unit",
    "puff": "puff",
    "puffs": "puff",
    "inhalation": "puff",
    "inhalations": "puff",
    "tab": "tab",
    "tabs": "tab",
    "tablet": "tab",
    "tablets": "tab",
    "pill": "tab",
    "pills": "tab",
    "capsule": "cap",
    "capsules": "cap",
    "cap": "cap",
    "caps": "cap",
    "%": "%",
    "percent": "%",
    "drop": "drop",
    "drops": "drop",
    "spray": "spray",
    "sprays": "spray",
    "patch": "patch",
    "meq": "meq",
}
# A dose in these units is a strength; in the others it is a count of things.
_STRENGTH_UNITS = frozenset({"mg", "mcg", "g", "ml", "unit", "%", "meq"})

_ROUTES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), r)
    for p, r in (
        (r"\b(?:by mouth|orally|oral|po|swallow)\b", "oral"),
        (r"\b(?:inhaler|inhaled|puffs?|nebulizer|neb)\b", "inhaled"),
        (r"\b(?:nasal spray|in (?:your|each|the) nos(?:e|tril)s?|nasal)\b", "nasal"),
        (r"\b(?:eye drops?|in (?:your|each|the) eyes?)\b", "ophthalmic"),
        (r"\b(?:cream|ointment|lotion|gel|topical|topically|shampoo|apply|foam)\b", "topical"),
        (r"\b(?:patch|patches|transdermal)\b", "transdermal"),
        (r"\b(?:under (?:your|the) tongue|sublingual)\b", "sublingual"),
        (r"\b(?:iv|intravenous|intravenously|infusion)\b", "intravenous"),
        (r"\b(?:injection|injections|shot|shots|inject|injectable|subcutaneous|intramuscular|im)\b", "injection"),
    )
)

_DAYS = r"(?:sunday|monday|tuesday|wednesday|thursday|friday|saturday)s?"
# (pattern, canonical frequency). First match wins within a group; base frequencies and "as needed" combine.
_BASE_FREQ: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), f)
    for p, f in (
        (r"\bevery (\d+) (?:to|-|or) (\d+) hours?\b", "every {0} to {1} hours"),
        (r"\bq ?(\d+) ?- ?(\d+) ?h(?:ours?)?\b", "every {0} to {1} hours"),
        (r"\bevery (\d+) hours?\b", "every {0} hours"),
        (r"\bq ?(\d+) ?h(?:ours?)?\b", "every {0} hours"),
        (r"\bevery other day\b", "every other day"),
        (r"\bevery (\d+) days?\b", "every {0} days"),
        (r"\bevery (\d+) weeks?\b", "every {0} weeks"),
        (
            r"\b(?:4|four) times (?:a|per|each|every) day\b|\b(?:4|four) times daily\b|\bqid\b|\bq\.i\.d\b",
            "four times a day",
        ),
        (
            r"\b(?:3|three) times (?:a|per|each|every) day\b|\b(?:3|three) times daily\b|\btid\b|\bt\.i\.d\b",
            "three times a day",
        ),
        (
            r"\btwice (?:a|per|each|every) day\b|\btwice daily\b|\btwice a day\b|\b(?:2|two) times (?:a|per|each|every)"
            r" day\b|\b(?:2|two) times daily\b|\bbid\b|\bb\.i\.d\b"
            r"|\bmorning and (?:1 |one )?(?:in the |at )?(?:night|evening|bedtime)\b"
            r"|\b(?:night|evening) and (?:in the )?morning\b|\bwith breakfast and (?:with )?dinner\b",
            "twice a day",
        ),
        (r"\btwice\b(?! (?:a|per) (?:week|month))", "twice a day"),
        (
            r"\b(?:once|one time|1 time) (?:a|per|each|every) week\b|\bweekly\b|\bevery week\b|\bonce weekly\b",
            "once a week",
        ),
        (rf"\b(?:on|every) {_DAYS}\b", "once a week"),
        (r"\b(?:twice|2 times|two times) (?:a|per) week\b", "twice a week"),
        (r"\b(?:once|one time|1 time) (?:a|per|each|every) month\b|\bmonthly\b|\bevery month\b", "once a month"),
        (
            r"\b(?:once|one time|1 time) (?:a|per|each|every) day\b|\bonce daily\b|\bdaily\b|\bevery day\b|\bqd\b"
            r"|\bq day\b|\bonce a day\b|\b(?:a|per) day\b",
            "once a day",
        ),
        (
            r"\b(?:at night|at bedtime|before bed|nightly|every night|each night|every evening|qhs|in the evening)\b",
            "at night",
        ),
        (r"\b(?:every morning|each morning|in the morning|in the mornings|qam)\b", "every morning"),
        (r"\bonce\b(?! (?:a|per) (?:week|month))", "once a day"),
    )
)
_PRN = re.compile(
    r"\b(?:as needed|as necessary|when needed|if needed|when necessary|prn|p\.r\.n|as you need|when you need"
    r"|if you need|as required|when required|when i need|if i need|occasional|occasionally|once in a while"
    r"|from time to time"
    r"|every now and then|for (?:the |your |my )?pain|when i have pain|when it hurts)\b"
)
_BEFORE_EVENT = re.compile(
    r"\b(?:before|prior to) ((?:dental |any |each |every |your )?(?:procedures?|meals?|surgery|appointments?|activity"
    r"|exercise|workouts?|flights?|travel|intercourse|sex|dental work))\b"
)
_Q_HOURS = re.compile(r"\bq\.?\s*(\d+)\s*-?\s*h\b\.?")
_DURATION = re.compile(r"\b(?:for|x) (?:the next |another |a |about )?(\d+(?:\.\d+)?|a) (days?|weeks?|months?)\b")


@dataclass(frozen=True, slots=True)
class DoseInfo:
    dose: str | None
    unit: str | None
    route: str | None
    frequency: str | None
    duration: str | None


_GLUED = re.compile(r"^(\d+(?:\.\d+)?)([a-z%]+)$")


def digitize(tokens: Sequence[str]) -> list[str]:
    """Lower-cased tokens with each spoken or written number replaced by one digit token ("20mg" -> 20 mg)."""
    toks: list[str] = []
    for t in (x.lower() for x in tokens):
        m = _GLUED.match(t)
        toks.extend(m.groups() if m and m.group(2) in _UNIT_WORDS else (t,))
    out: list[str] = []
    i = 0
    for n in find_numbers(toks):
        out.extend(toks[i : n.start])
        out.append(format_number(n.value))
        i = n.end
    out.extend(toks[i:])
    return out


def _is_num(tok: str) -> bool:
    try:
        float(tok)
    except ValueError:
        return False
    return True


def find_dose(toks: Sequence[str]) -> tuple[str, str] | None:
    """The first "<number> <unit>" in digitized tokens.

    A strength (mg, mcg, ...) outranks a count (puffs, tablets) said before it ("one tablet of 500 mg"), and
    a change names its target last ("from 20 milligrams to 60 milligrams" gives 60).
    """
    found: list[tuple[int, str, str]] = []
    for i, t in enumerate(toks):
        if not _is_num(t):
            continue
        j = i + 1
        if j < len(toks) and toks[j] in ("-", "of"):
            j += 1
        unit = _UNIT_WORDS.get(toks[j]) if j < len(toks) else None
        if unit is None and j + 2 < len(toks) and toks[j] == "to" and _is_num(toks[j + 1]):
            unit = _UNIT_WORDS.get(toks[j + 2])  # "from 20 to 40 milligrams"
        if unit is not None:
            found.append((i, t, unit))
    if not found:
        return None
    strengths = [f for f in found if f[2] in _STRENGTH_UNITS] or found
    for i, value, unit in strengths[1:]:
        if toks[i - 1] == "to":
            return value, unit
    _, value, unit = strengths[0]
    return value, unit


def find_frequency(text: str) -> str | None:
    text = _Q_HOURS.sub(r"every \1 hours", text)
    base: str | None = None
    for pat, canon in _BASE_FREQ:
        m = pat.search(text)
        if m:
            base = canon.format(*m.groups())
            break
    if base is None:
        event = _BEFORE_EVENT.search(text)  # "prior to dental procedures", "before meals"
        base = f"before {event.group(1)}" if event else None
    prn = _PRN.search(text) is not None
    if base and prn:
        return f"{base} as needed"
    return base or ("as needed" if prn else None)


def find_route(text: str) -> str | None:
    for pat, route in _ROUTES:
        if pat.search(text):
            return route
    return None


def find_duration(text: str) -> str | None:
    m = _DURATION.search(text)
    if not m:
        return None
    n = "1" if m.group(1) == "a" else m.group(1)
    unit = m.group(2) if m.group(2).endswith("s") or n == "1" else m.group(2) + "s"
    return f"for {n} {unit}"


_CORRECTIONS = ("excuse me", "i'm sorry", "i 'm sorry", "sorry", "i mean", "rather")
_FREQ_AFTER = 9  # words after the name, or after the dose, in which its frequency is said
_NOT_WORDS = frozenset({",", ".", "...", "-", ";", ":", "uh", "um", "uhm", "er"})
# "... and i want you to use that twice daily": a pronoun that takes the drug up again carries its frequency
_TAKEN_UP = re.compile(r"\b(?:take|use|apply|using|taking|put) (?:that|it|this|them|those|these|one)\b((?: \S+){0,6})")


def _near(toks: Sequence[str], dose: tuple[str, str] | None) -> list[str]:
    """The tokens up to _FREQ_AFTER words past the dose (or past the name when no dose was said)."""
    start = 0
    if dose is not None:
        start = next((i + 2 for i, t in enumerate(toks) if t == dose[0]), 0)
    words, end = 0, start
    while end < len(toks) and words < _FREQ_AFTER:
        words += toks[end] not in _NOT_WORDS
        end += 1
    return list(toks[:end])


def parse_dosage(after: Sequence[str], before: Sequence[str] = (), *, near: bool = True) -> DoseInfo:
    """Read the attributes of one mention: `after` are the tokens that follow the drug name (up to the next
    drug or the end of the clause), `before` the few that precede it ("40 milligrams of lasix"). With
    `near=False` (a reply about the drug) a frequency anywhere in `after` counts."""
    a = digitize(after)
    text = " ".join(a)
    dose = find_dose(a)
    corr = next((text.find(c) for c in _CORRECTIONS if f" {c} " in f" {text} "), -1)
    if corr > 0:  # "5000 units, or 50,000 units, excuse me": the value said last before the correction
        head = text[:corr].split()
        values = [d for d in (find_dose(head[k:]) for k in range(len(head))) if d is not None]
        if values:
            dose = values[-1]
    if dose is None and before:
        b = digitize(before)
        if len(b) >= 2 and b[-1] == "of":
            b = b[:-1]
        if len(b) >= 2 and _is_num(b[-2]) and b[-1] in _UNIT_WORDS:
            dose = (b[-2], _UNIT_WORDS[b[-1]])
    before_text = " ".join(digitize(before)) if before else ""
    # a frequency belongs to this drug only when said close to its name or its dose, or about "it"
    frequency = find_frequency(" ".join(_near(a, dose)) if near else text)
    if frequency is None and near:
        m = _TAKEN_UP.search(text)
        frequency = find_frequency(m.group(1)) if m else None
    return DoseInfo(
        dose=dose[0] if dose else None,
        unit=dose[1] if dose else None,
        route=find_route(text) or (find_route(before_text) if before else None),
        # "i take it every morning with my multivitamin": said before the name when nothing follows it
        frequency=frequency or (find_frequency(before_text) if before else None),
        duration=find_duration(text),
    )
