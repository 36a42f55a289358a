"""Small text helpers shared by retrieval and the claim checks: tokens, content words, spoken numbers.

Transcripts spell numbers out ("one thirty over sixty eight", "zero point zero five percent") while a
note writes digits, so numbers are compared as sets of values read both ways.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z0-9]+(?:[.'/-][a-z0-9]+)*")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def word_set(text: str) -> frozenset[str]:
    """A vocabulary written as whitespace-separated words (easier to read and edit than a list)."""
    return frozenset(text.split())


STOPWORDS = word_set(
    """
    a an the of in on at to for with and or from by into onto his her their my your our its is are
    was were be been being as per which that this these those any some very also about over under
    while when during after before than then there has have had do does did not no patient pt
    reports reported report states stated notes noted says said he she it they them him we you i me
    so but if just like okay yeah um uh well know think going gonna go get got can could would
    should will may might let lets today doctor currently today's really kind sort little bit thing
    things
    """
)

_UNITS = {
    "zero": 0, "oh": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
_SCALES = {"hundred": 100, "thousand": 1000}
_NUMBER_WORDS = frozenset([*_UNITS, *_TENS, *_SCALES, "point", "and", "a"])


def tokens(text: str) -> list[str]:
    words = _WORD.findall(text.lower().replace("’", "'"))
    return [w[:-2] if w.endswith("'s") else w for w in words]  # "lawrence's" -> "lawrence"


def stem(token: str) -> str:
    # Crude on purpose: "tablets"/"tablet", "knees"/"knee", "swelling"/"swell" should meet; nothing clinical
    # hangs on it beyond lexical overlap.
    for suffix in ("ing", "ies", "es", "ed", "s"):
        if token.endswith(suffix) and len(token) - len(suffix) >= 4:
            return token[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return token


def content_words(text: str) -> set[str]:
    return {
        stem(t)
        for t in tokens(text)
        if t not in STOPWORDS and t not in _NUMBER_WORDS and not t[0].isdigit() and len(t) > 2
    }


def _small(words: list[str]) -> int | None:
    """'ninety eight' -> 98, 'one hundred thirty' -> 130; None if `words` is not one such number."""
    total, current, seen = 0, 0, False
    for w in words:
        if w in _UNITS:
            if current % 10 or (current and current < 20 and current >= 10):
                return None  # "five six" is two numbers, not one
            current += _UNITS[w]
        elif w in _TENS:
            if current % 100:
                return None
            current += _TENS[w]
        elif w == "hundred":
            current = (current or 1) * 100
        elif w == "thousand":
            total += (current or 1) * 1000
            current = 0
        else:
            return None
        seen = True
    return total + current if seen else None


def _read_run(words: list[str]) -> set[float]:
    """All readings of a run of number words: summed ("one hundred thirty") and spoken in groups
    ("one thirty" = 130, "ninety seven point seven" = 97.7), plus every single word on its own."""
    values: set[float] = set()
    if "point" in words:
        i = words.index("point")
        wholes = _read_run(words[:i]) if words[:i] else {0.0}
        frac_digits = [w for w in words[i + 1 :] if w in _UNITS and _UNITS[w] < 10]
        if frac_digits:
            frac = float("0." + "".join(str(_UNITS[w]) for w in frac_digits))
            values |= {w + frac for w in wholes if w == int(w)}
        values |= _read_run(words[:i]) | _read_run(words[i + 1 :])
        return values
    words = [w for w in words if w not in ("and", "a")]
    if not words:
        return values
    whole = _small(words)
    if whole is not None:
        values.add(float(whole))
    # grouped: split into chunks each readable alone, then concatenate digits ("one thirty" -> "1" + "30")
    for cut in range(1, len(words)):
        left, right = _small(words[:cut]), _small(words[cut:])
        if left is not None and right is not None and left < 100 and 10 <= right < 100:
            values.add(float(f"{left}{right:02d}"))
    for w in words:
        single = _small([w])
        if single is not None:
            values.add(float(single))
    return values


def numbers(text: str) -> set[float]:
    """Every number written or spoken in `text`."""
    lowered = text.lower()
    values: set[float] = set()
    for m in _NUMBER.finditer(lowered):
        raw = m.group(0).replace(",", "")
        try:
            values.add(float(raw))
        except ValueError:
            continue
    run: list[str] = []
    # ACI-style transcripts write a spoken decimal point as " . " ("ninety seven . seven").
    for t in [*re.findall(r"[a-z]+|\.", lowered), ""]:
        if t == "." and run:
            t = "point"
        if t in _NUMBER_WORDS and (run or t not in ("and", "a", "point")):
            run.append(t)
            continue
        if run:
            values |= _read_run(run)
            run = []
    return values


_STANDALONE_NUMBER = re.compile(r"(?<![\w'-])\d+(?:[.,]\d+)*(?![\w'])")
# Spelled-out numbers a note may state ("for two weeks"); "one" and "zero" are left out ("no one").
_SPELLED = re.compile(
    r"\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty"
    r"|sixty|seventy|eighty|ninety|hundred)\b"
)


def written_numbers(text: str) -> set[float]:
    """Numbers a note sentence states (what the claim checks hold to the evidence): digits, and spelled
    numbers from two up. Digits inside a name ("COVID-19", "4,4'-…disulfonic acid") are skipped."""
    values: set[float] = set()
    for m in _STANDALONE_NUMBER.finditer(text):
        try:
            values.add(float(m.group(0).replace(",", "")))
        except ValueError:
            continue
    if _SPELLED.search(text.lower()):
        values |= {v for v in _spelled_numbers(text) if v >= 2}
    return values


def _spelled_numbers(text: str) -> set[float]:
    """One value per run of number words, read whole ("twenty five" -> 25 only)."""
    values: set[float] = set()
    run: list[str] = []
    for t in [*re.findall(r"[a-z]+", text.lower()), ""]:
        if t in _NUMBER_WORDS and t != "point" and (run or t not in ("and", "a")):
            run.append(t)
            continue
        words = [w for w in run if w not in ("and", "a")]
        value = _small(words) if words else None
        if value is not None:
            values.add(float(value))
        run = []
    return values
