"""Word error rate with a normalisation suited to spoken clinical English.

Both texts are normalised the same way before alignment, so the score counts recognition errors,
not formatting choices:

1. Unicode NFKC, lower-case; curly quotes become straight ones.
2. Contractions are expanded ("don't" -> "do not", "I'm" -> "i am", "can't"/"cannot" -> "can not");
   "'s" is left to step 5 because it is ambiguous ("it's" = "it is", "patient's" = possessive),
   except for the unambiguous "it's", "that's", "there's", "what's", "he's", "she's", "let's".
3. Numbers are spelled out, so "500" and "five hundred" match: integers, decimals ("2.5" -> "two
   point five"), thousands separators ("1,000"), ordinals ("2nd" -> "second"), "%" -> "percent".
   A number glued to a unit is split ("500mg" -> "five hundred mg"); clock times lose ":00"
   ("8:00 a.m." = "8 am" = "eight am").
4. Common dose units are spelled out ("mg" -> "milligrams", "mcg" -> "micrograms", "ml" ->
   "milliliters").
5. Hyphens and slashes split words; every other non-alphanumeric character is removed (so "patient's"
   becomes "patients").

The score is (substitutions + deletions + insertions) / reference words. An empty reference scores
0.0 against an empty hypothesis and 1.0 against anything else.
"""

from __future__ import annotations

import re
import unicodedata

_CONTRACTIONS = {
    "won't": "will not",
    "can't": "can not",
    "cannot": "can not",
    "shan't": "shall not",
    "ain't": "is not",
    "let's": "let us",
    "it's": "it is",
    "that's": "that is",
    "there's": "there is",
    "what's": "what is",
    "he's": "he is",
    "she's": "she is",
    "i'm": "i am",
    "y'all": "you all",
}
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
_SUFFIXES = (("n't", " not"), ("'re", " are"), ("'ve", " have"), ("'ll", " will"), ("'d", " would"))

_UNITS = {
    "mg": "milligrams",
    "mgs": "milligrams",
    "milligram": "milligrams",
    "mcg": "micrograms",
    "µg": "micrograms",
    "microgram": "micrograms",
    "ml": "milliliters",
    "millilitre": "milliliters",
    "millilitres": "milliliters",
    "milliliter": "milliliters",
    "kg": "kilograms",
    "kilogram": "kilograms",
    "kilo": "kilograms",
    "kilos": "kilograms",
}

_ONES = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
)
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_SCALES = ((1_000_000_000, "billion"), (1_000_000, "million"), (1_000, "thousand"), (100, "hundred"))
_ORDINAL_WORDS = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}

_ORDINAL = re.compile(r"\b(\d+)(st|nd|rd|th)\b")
_CLOCK = re.compile(r"\b(\d{1,2}):(\d\d)\b")
_GLUED_UNIT = re.compile(r"(\d)([a-zµ]+)\b")
_NUMBER = re.compile(r"\b\d+(?:,\d{3})*(?:\.\d+)?\b")
_WORD = re.compile(r"[a-z0-9]+")


def number_to_words(n: int) -> str:
    """Spell a non-negative integer in English words without "and" ("one hundred five")."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + ("" if ones == 0 else " " + _ONES[ones])
    for scale, name in _SCALES:
        if n >= scale:
            head, rest = divmod(n, scale)
            return f"{number_to_words(head)} {name}" + ("" if rest == 0 else " " + number_to_words(rest))
    raise AssertionError("unreachable")


def _ordinal(words: str) -> str:
    *head, last = words.split(" ")
    if last in _ORDINAL_WORDS:
        last = _ORDINAL_WORDS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return " ".join([*head, last])


def _spell_number(match: re.Match[str]) -> str:
    whole, _, fraction = match.group(0).replace(",", "").partition(".")
    words = number_to_words(int(whole))
    if fraction:
        words += " point " + " ".join(_ONES[int(d)] for d in fraction)
    return f" {words} "


def _spell_clock(match: re.Match[str]) -> str:
    hours, minutes = match.group(1), match.group(2)
    return f" {hours} " if minutes == "00" else f" {hours} {minutes} "


def normalize(text: str) -> list[str]:
    """Return the words of ``text`` after the normalisation described in the module docstring."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_QUOTES)
    words: list[str] = []
    for raw in text.split():
        token = raw.strip("\"'()[]{}.,;:!?")
        if token in _CONTRACTIONS:
            raw = _CONTRACTIONS[token]
        else:
            for suffix, expansion in _SUFFIXES:
                if token.endswith(suffix):
                    raw = token[: -len(suffix)] + expansion
                    break
        words.append(raw)
    text = " ".join(words).replace("%", " percent ").replace("a.m.", "am").replace("p.m.", "pm")
    text = _ORDINAL.sub(lambda m: f" {_ordinal(number_to_words(int(m.group(1))))} ", text)
    text = _CLOCK.sub(_spell_clock, text)
    text = _GLUED_UNIT.sub(r"\1 \2", text)
    text = _NUMBER.sub(_spell_number, text)
    text = re.sub(r"[-/]", " ", text).replace("'", "")
    return [_UNITS.get(w, w) for w in _WORD.findall(text)]


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(S + D + I) / N after normalising both texts; see the module docstring."""
    ref, hyp = normalize(reference), normalize(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return _edit_distance(ref, hyp) / len(ref)


def _edit_distance(ref: list[str], hyp: list[str]) -> int:
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        current = [i]
        for j, h in enumerate(hyp, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h)))
        previous = current
    return previous[-1]
