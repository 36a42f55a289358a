"""Drug names as speech recognition mangles them: "maloft" for zoloft, "prednisoba" for prednisone.

Only the curated common drugs are candidates, only words that are no vocabulary term are tried, and only
where the words around them speak of a medication ("start ..., 25 mg once a day"), so an ordinary word one
letter away from a drug ("reflex" / keflex) is left alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from nlp.lexicon.norm import norm_token

_UNITS = frozenset(
    norm_token(w)
    for w in ("mg", "milligram", "mcg", "microgram", "unit", "puff", "tablet", "tab", "pill", "taper", "patch")
)
_CUES = frozenset(
    {
        "take",
        "taking",
        "start",
        "starting",
        "prescribe",
        "prescribing",
        "order",
        "continue",
        "on",
        "try",
        "increase",
        "decrease",
        "stop",
        "use",
        "using",
    }
)
_SKIP = frozenset({",", ".", "uh", "um", "the", "a", "some", "your", "my", "you", "of"})


def _distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, or limit + 1 as soon as it must exceed `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        if min(cur) > limit:
            return limit + 1
        prev = cur
    return prev[-1]


class FuzzyDrugs:
    """Near-miss lookup of single-word drug names, indexed by their first and last three letters."""

    def __init__(self, names: Iterable[str]) -> None:
        self._index: dict[str, set[str]] = {}
        for name in names:
            if " " in name or len(name) < 5 or not name.isalpha():
                continue
            for key in (f"^{name[:3]}", f"{name[-3:]}$"):
                self._index.setdefault(key, set()).add(name)

    def match(self, word: str) -> tuple[str, int] | None:
        """The one closest drug name and its distance, when close enough and unambiguous."""
        if len(word) < 5 or not word.isalpha():
            return None
        cands = self._index.get(f"^{word[:3]}", set()) | self._index.get(f"{word[-3:]}$", set())
        # one slip in a short word, two in a long one or when the ending is the drug's ("maloft": zoloft)
        scored = sorted(
            (d, c) for c in cands if (d := _distance(word, c, 2)) <= (2 if len(word) >= 7 or word[-4:] == c[-4:] else 1)
        )
        if scored and (len(scored) == 1 or scored[1][0] > scored[0][0]):
            return scored[0][1], scored[0][0]
        return None


def medication_context(norms: Sequence[str], start: int, end: int) -> int:
    """How surely the words around a position speak of a medication: 2 when a dose with its unit follows
    ("maloft, 25 mg"), 1 when a number follows or a prescribing verb leads to it ("order prednisoba"), else 0."""
    right = norms[end : end + 5]
    if any(w in _UNITS or (w[:1].isdigit() and w.rstrip("0123456789.") in _UNITS) for w in right):
        return 2
    if any(w[:1].isdigit() for w in right):
        return 1
    left = [w for w in norms[max(0, start - 5) : start] if w not in _SKIP]
    return 1 if left and left[-1] in _CUES and len(norms[start]) >= 6 else 0
