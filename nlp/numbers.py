"""Spoken and written numbers in a token list: "five hundred", "1,000", "zero point four", "two and a half",
"three twenty five" (325, as doses are said)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

_UNITS = {
    "zero": 0,
    "oh": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
}
_TEENS = {
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_SCALES = {"hundred": 100, "thousand": 1000}
NUMBER_WORDS: frozenset[str] = frozenset(_UNITS) | frozenset(_TEENS) | frozenset(_TENS) | frozenset(_SCALES)


@dataclass(frozen=True, slots=True)
class Number:
    start: int  # token index, inclusive
    end: int  # token index, exclusive
    value: float


def _digits(tok: str) -> float | None:
    t = tok.replace(",", "")
    if not any(ch.isdigit() for ch in t):
        return None
    if t.startswith("."):
        t = "0" + t
    try:
        v = float(t)
    except ValueError:
        return None
    return v if t[0].isdigit() else None


def _small(toks: Sequence[str], i: int) -> tuple[int, int] | None:
    """A number below 100 at i: (value, tokens used)."""
    if i >= len(toks):
        return None
    t = toks[i]
    if t in _TENS:
        if i + 1 < len(toks) and toks[i + 1] in _UNITS and toks[i + 1] not in ("zero", "oh"):
            return _TENS[t] + _UNITS[toks[i + 1]], 2
        return _TENS[t], 1
    if t in _TEENS:
        return _TEENS[t], 1
    if t in _UNITS and t != "oh":
        return _UNITS[t], 1
    return None


def _spoken(toks: Sequence[str], i: int) -> tuple[float, int] | None:
    """A spoken number starting at i: (value, tokens used)."""
    total, cur, j, last = 0.0, 0.0, i, ""
    while j < len(toks):
        t = toks[j]
        small = _small(toks, j)
        if small is not None:
            nxt = toks[j + small[1]] if j + small[1] < len(toks) else ""
            if last == "small":
                # "three twenty five" = 325, "one twenty" = 120 (how doses and pressures are said)
                if j - i == 1 and cur < 10 and (t in _TENS or t in _TEENS) and nxt not in _SCALES:
                    cur = cur * 100 + small[0]
                    j += small[1]
                    last = "done"
                break
            if last == "hundred" and nxt in _SCALES:
                break  # "five hundred five hundred" is said twice, not 505
            cur = cur + small[0] if last == "hundred" else float(small[0])
            j += small[1]
            last = "small"
        elif t == "hundred":
            cur = (cur or 1) * 100
            j += 1
            last = "hundred"
        elif t == "thousand":
            total += (cur or 1) * 1000
            cur, j, last = 0.0, j + 1, "thousand"
        elif t == "and" and last in ("hundred", "thousand") and j + 1 < len(toks) and _small(toks, j + 1):
            j += 1
        else:
            break
        if last == "done":
            break
    if j == i:
        return None
    total += cur
    # decimals: "point four", "two point five"; transcripts may write the spoken point as "."
    if j + 1 < len(toks) and toks[j] in ("point", ".") and toks[j + 1] in _UNITS:
        digits = ""
        while j + 1 < len(toks) and toks[j + 1] in _UNITS:
            digits += str(_UNITS[toks[j + 1]])
            j += 1
        j += 1
        total = float(f"{int(total)}.{digits}")
    # "two and a half"
    if j + 2 < len(toks) and toks[j] == "and" and toks[j + 1] == "a" and toks[j + 2] == "half":
        total += 0.5
        j += 3
    return total, j - i


def find_numbers(toks: Sequence[str]) -> list[Number]:
    """All numbers in lower-cased tokens, left to right, non-overlapping."""
    out: list[Number] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        d = _digits(t)
        if d is not None:
            if (
                i + 1 < len(toks)
                and toks[i + 1] == "and"
                and i + 3 < len(toks)
                and toks[i + 2 : i + 4] == ["a", "half"]
            ):
                out.append(Number(i, i + 4, d + 0.5))
                i += 4
                continue
            out.append(Number(i, i + 1, d))
            i += 1
            continue
        if t == "point" and i + 1 < len(toks) and toks[i + 1] in _UNITS:  # "point four"
            sp = _spoken(["zero", *toks[i:]], 0)
            if sp is not None:
                out.append(Number(i, i + sp[1] - 1, sp[0]))
                i += sp[1] - 1
                continue
        if t in ("half", "a") and (t == "half" or (i + 1 < len(toks) and toks[i + 1] == "half")):
            n = 1 if t == "half" else 2
            out.append(Number(i, i + n, 0.5))
            i += n
            continue
        if t in NUMBER_WORDS:
            sp = _spoken(toks, i)
            if sp is not None and sp[1] > 0:
                out.append(Number(i, i + sp[1], sp[0]))
                i += sp[1]
                continue
        i += 1
    return out


def format_number(value: float) -> str:
    return f"{value:g}" if value < 1e6 else str(int(value))
