"""Token normalisation shared by the artifact builder and the runtime matcher (both sides must agree)."""

from __future__ import annotations

from collections.abc import Iterable

# Tokens dropped before matching: hyphens split off by the tokenizer ("x-ray" -> x - ray) and apostrophe noise.
SKIP_TOKENS: frozenset[str] = frozenset({"-", "–", "—"})
_KEEP_S = ("ss", "us", "is", "ous", "sis")


def norm_token(text: str) -> str:
    """Lower-case and crudely singularise, so "knees" meets "knee" and "migraines" meets "migraine"."""
    t = text.lower().replace("’", "'")
    if len(t) > 2:
        t = t.strip("-")  # "murmur-" (a cut-off word) is "murmur"
    if len(t) > 4 and t.endswith("ies"):
        return t[:-3] + "y"
    if len(t) > 4 and t.endswith(("sses", "shes", "xes")):  # "masses", "rashes"
        return t[:-2]
    if len(t) > 3 and t.endswith("s") and not t.endswith(_KEEP_S) and t[-2].isalpha():
        return t[:-1]
    return t


def norm_key(tokens: Iterable[str]) -> str:
    """The lookup key of a token sequence."""
    return " ".join(norm_token(t) for t in tokens if t not in SKIP_TOKENS and t.strip())
