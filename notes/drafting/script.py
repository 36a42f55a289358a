"""Text hygiene: letters of a script other than Latin in a note written in English.

A small model sometimes slips into its other training languages mid-sentence ("Reports 头痛 for 2 days.").
Such a sentence is never SUPPORTED, and the drafter asks again before it keeps one. Judged by Unicode
letter names: Latin letters with diacritics ("café", "naïve"), digits, punctuation and symbols ("°", "±",
"µ") are fine. A lone Greek letter is a symbol in clinical English ("β-blocker", "α1", "μg"); two Greek
letters in a row are a Greek word. Fullwidth Latin ("ＡＢＣ") is CJK typing, not English, and counts.
"""

from __future__ import annotations

import unicodedata

# Letters whose Unicode names do not say LATIN but which English clinical text uses.
_FINE = frozenset("µªº")


def _greek(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith("GREEK")


def _foreign(ch: str) -> bool:
    if ch in _FINE or not unicodedata.category(ch).startswith("L"):
        return False
    name = unicodedata.name(ch, "")
    return not (name.startswith("LATIN") or name.startswith("MODIFIER LETTER"))


def other_script_letters(text: str) -> list[str]:
    """The letters of `text` that are not Latin, in order (lone Greek letters excepted, see above)."""
    if text.isascii():
        return []
    out: list[str] = []
    for i, ch in enumerate(text):
        if not _foreign(ch):
            continue
        if _greek(ch):
            neighbours = text[max(0, i - 1) : i] + text[i + 1 : i + 2]
            if not any(_greek(n) and unicodedata.category(n).startswith("L") for n in neighbours):
                continue
        out.append(ch)
    return out


def other_script_count(text: str) -> int:
    return len(other_script_letters(text))
