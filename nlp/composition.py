"""Findings made of two pieces: a body site with a finding ("my right knee hurts", "tenderness over the medial
epicondyle") and a lab analyte with a direction ("your a1c is elevated", "low hemoglobin").

Works on normalised tokens (`nlp.lexicon.norm.norm_token`); returns candidate spans for the matcher.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from nlp.lexicon.anatomy import (
    ANALYTES,
    ATTACHABLE,
    HIGH_WORDS,
    LATERALITY,
    LOW_WORDS,
    NEGATIVE_FORMS,
    SITE_FINDINGS,
    SITE_VERBS,
    SITES,
)
from nlp.lexicon.norm import norm_token
from nlp.numbers import NUMBER_WORDS as _NUMBER_WORDS

_PREPS = frozenset(
    {
        "in",
        "on",
        "of",
        "over",
        "at",
        "around",
        "to",
        "along",
        "behind",
        "under",
        "into",
        "across",
        "down",
        "near",
        "throughout",
        "involving",
        "from",
        "up",
        "with",
    }
)
# "pain radiating into the forearm", "pain that goes down my leg"
_EXAM = frozenset({"exam", "examination"})
_SITE_ADJ = frozenset(
    {
        "frontal",
        "maxillary",
        "or",
        "and",
        "upper",
        "lower",
        "outer",
        "inner",
        "mid",
        "entire",
        "whole",
        "inside",
        "outside",
        "front",
        "top",
        "bottom",
        "palpation",
        "palpitation",
    }
)
_SPREAD = frozenset(
    {"radiating", "radiates", "radiate", "shooting", "shoots", "going", "goes", "that", "which", "runs"}
)
# How a site-bound finding is named when a single word says it better.
_NAMES: dict[tuple[str, str], str] = {("head", "pain"): "headache", ("abdominal", "pain"): "abdominal pain"}
_DETS = frozenset({"the", "my", "your", "his", "her", "their", "both", "a", "this", "that", "those", "these", "its"})
# Words allowed between a site and the verb that states its finding ("my knee has been really sore").
_LINKS = frozenset(
    {
        "is",
        "are",
        "was",
        "were",
        "been",
        "be",
        "has",
        "have",
        "had",
        "feel",
        "feels",
        "felt",
        "get",
        "gets",
        "getting",
        "got",
        "kind",
        "of",
        "kinda",
        "a",
        "little",
        "bit",
        "really",
        "very",
        "so",
        "still",
        "always",
        "sometimes",
        "just",
        "pretty",
        "more",
        "slightly",
        "also",
        "seem",
        "seems",
        "seemed",
        "look",
        "looks",
        "looked",
        "quite",
        "'s",
        "'re",
        "starting",
        "started",
        "to",
        "keep",
        "keeps",
        "kept",
        "mildly",
        "somewhat",
    }
)
_PALPATION = ("to palpation", "with palpation", "on palpation", "upon palpation", "to palpitation", "to touch")
_ATTACH_LOOKBACK = 12
_ATTACH_AHEAD = 8
# Organs that are findings only when enlarged ("the thyroid is not enlarged").
_ORGANS: dict[str, str] = {
    "thyroid": "thyroid",
    "liver": "liver",
    "spleen": "spleen",
    "prostate": "prostate",
    "tonsil": "tonsil",
    "lymph node": "lymph node",
    "node": "lymph node",
    "gland": "gland",
    "heart": "heart",
}
_ENLARGED = frozenset({"enlarged", "enlargement", "swollen", "big", "large", "bigger"})
_DIRECTION_GAP = frozenset(
    {
        ",",
        "excuse",
        "me",
        "and",
        "it",
        "that",
        "is",
        "are",
        "was",
        "were",
        "been",
        "has",
        "have",
        "had",
        "came",
        "come",
        "back",
        "running",
        "run",
        "look",
        "looks",
        "looked",
        "seem",
        "seems",
        "a",
        "little",
        "bit",
        "slightly",
        "mildly",
        "quite",
        "very",
        "really",
        "pretty",
        "still",
        "now",
        "too",
        "kind",
        "of",
        "kinda",
        "somewhat",
        "'s",
        "level",
        "number",
        "reading",
        "value",
        "result",
        "count",
        "always",
        "also",
        "tends",
        "to",
        "be",
        "just",
    }
)
_DIRECTION_PRE = frozenset({"a", "little", "bit", "slightly", "mildly", "very", "quite", "really", "your", "the", "my"})


def _table(words: Mapping[str, str]) -> dict[tuple[str, ...], str]:
    return {tuple(norm_token(w) for w in k.split()): v for k, v in words.items()}


_SITE_T = _table(SITES)
_ORGAN_T = _table(_ORGANS)
_LAT_T = {norm_token(k): v for k, v in LATERALITY.items()}
_FIND_T = {norm_token(k): v for k, v in SITE_FINDINGS.items()}
_VERB_T = _table(SITE_VERBS)
_ANALYTE_T = {tuple(norm_token(w) for w in k.split()): v for k, v in ANALYTES.items()}
_HIGH = frozenset(norm_token(w) for w in HIGH_WORDS)
_LOW = frozenset(norm_token(w) for w in LOW_WORDS)
_PREPS_N = frozenset(norm_token(w) for w in _PREPS)
_DETS_N = frozenset(norm_token(w) for w in _DETS)
_LINKS_N = frozenset(norm_token(w) for w in _LINKS)
_GAP_N = frozenset(norm_token(w) for w in _DIRECTION_GAP)
_PRE_N = frozenset(norm_token(w) for w in _DIRECTION_PRE)
_ENLARGED_N = frozenset(norm_token(w) for w in _ENLARGED)
_PALP = tuple(tuple(p.split()) for p in _PALPATION)
_ATTACH_N = frozenset(norm_token(w) for w in ATTACHABLE)
_NEG_FORM_T = {norm_token(k): v for k, v in NEGATIVE_FORMS.items()}
_AREA_OF = frozenset({"back", "flank", "lower back", "upper back"})
# "on the right hand side": laterality, not a hand
_NOT_A_SITE_AFTER = {"hand": frozenset({"side"})}


@dataclass(frozen=True, slots=True)
class Composed:
    start: int  # index into the normalised token list, inclusive
    end: int  # exclusive
    kind: str  # "site" or "lab"
    text: str  # canonical words: "right knee pain", "elevated hemoglobin a1c"
    finding: str
    site: str
    laterality: str | None
    high: bool = True
    negated: bool = False  # "not" inside the span ("thyroid is not enlarged"), which ConText cannot see


def _longest(table: Mapping[tuple[str, ...], str], toks: Sequence[str], i: int) -> tuple[str, int] | None:
    for n in (3, 2, 1):
        key = tuple(toks[i : i + n])
        if len(key) == n and key in table:
            return table[key], n
    return None


def _lat_site(toks: Sequence[str], i: int) -> tuple[str | None, str, int] | None:
    """Laterality words then a site at i: (laterality, site, tokens used)."""
    j, lat = i, None
    while j < len(toks) and toks[j] in _LAT_T and j - i < 2:
        lat = _LAT_T[toks[j]] if lat is None or lat in ("medial", "lateral", "posterior", "anterior") else lat
        j += 1
    hit = _longest(_SITE_T, toks, j)
    if hit is None:
        return None
    k = j + hit[1]
    if hit[0] in _AREA_OF and k < len(toks) and toks[k] == "of":
        # "the back of my head", "the side of my neck": the site is what follows
        k += 1
        while k < len(toks) and toks[k] in _DETS_N:
            k += 1
        inner = _lat_site(toks, k)
        if inner is None:
            return None
        return inner[0] or lat, inner[1], k + inner[2] - i
    after = toks[j + hit[1]] if j + hit[1] < len(toks) else ""
    if after in _NOT_A_SITE_AFTER.get(hit[0], ()):
        return None
    return lat, hit[0], j + hit[1] - i


def _label(lat: str | None, site: str, finding: str) -> str:
    named = _NAMES.get((site, finding))
    if named is not None:
        return named
    return " ".join(w for w in (lat, site, finding) if w)


def _palpation(toks: Sequence[str], j: int) -> int:
    """Skip "to palpation" after a finding: returns the index after it."""
    for p in _PALP:
        if tuple(toks[j : j + len(p)]) == p:
            return j + len(p)
    return j


def _attach(toks: Sequence[str], i: int, sent_start: int) -> tuple[str | None, str] | None:
    """The site a bare finding at i is about: "in/of your <site>" just after it ("the swelling and pain that
    you have in your calf"), else the nearest site named before it in its sentence."""
    for j in range(i + 1, min(len(toks), i + _ATTACH_AHEAD)):
        if toks[j] in _FIND_T and toks[j] not in _ATTACH_N:
            break
        if toks[j] in _PREPS_N and toks[j] not in ("to", "with", "from", "up", "down"):
            k = j + 1
            while k < len(toks) and toks[k] in _DETS_N:
                k += 1
            ahead = _lat_site(toks, k)
            if ahead is not None and (k + ahead[2] >= len(toks) or toks[k + ahead[2]] not in _EXAM):
                return ahead[0], ahead[1]
    for j in range(i - 1, max(sent_start, i - _ATTACH_LOOKBACK) - 1, -1):
        ls = _lat_site(toks, j)
        if ls is not None and j + ls[2] <= i:
            for k in (j - 1, j - 2):  # the longest site ending here: "cervical spine", not "spine"
                longer = _lat_site(toks, k) if k >= sent_start else None
                if longer is not None and k + longer[2] == j + ls[2]:
                    ls = longer
            return ls[0], ls[1]
    return None


def _by_touch(finding: str, toks: Sequence[str], after: int, end: int) -> str:
    """ "pain to palpation" is tenderness."""
    return "tenderness" if finding == "pain" and end > after else finding


def site_findings(toks: Sequence[str], sent_starts: Sequence[int] | None = None) -> list[Composed]:
    """Site-bound findings. `sent_starts[i]` is the index where token i's sentence begins."""
    out: list[Composed] = []
    n = len(toks)
    starts = sent_starts if sent_starts is not None else [0] * n
    for i in range(n):
        # bare findings in exam dictation take the site said just before them
        word = toks[i]
        finding = _FIND_T.get(word) if word in _ATTACH_N else _NEG_FORM_T.get(word)
        if finding is not None:
            hit = _attach(toks, i, starts[i])
            if hit is not None:
                lat, site = hit
                neg = word in _NEG_FORM_T
                end = _palpation(toks, i + 1)
                finding = _by_touch(finding, toks, i + 1, end)
                out.append(Composed(i, end, "attached", _label(lat, site, finding), finding, site, lat, negated=neg))
        # A: "right knee pain", "left paraspinal tenderness"
        ls = _lat_site(toks, i)
        if ls is not None:
            lat, site, used = ls
            j = i + used
            if j < n and toks[j] in _FIND_T:
                end = _palpation(toks, j + 1)
                f = _by_touch(_FIND_T[toks[j]], toks, j + 1, end)
                out.append(Composed(i, end, "site", _label(lat, site, f), f, site, lat))
            # C: "my knees hurt", "the ankle is swollen", "knee gives out"
            k = j
            while k < n and toks[k] in _LINKS_N and k - j < 5:
                k += 1
            verb = _longest(_VERB_T, toks, k)
            if verb is not None:
                out.append(Composed(i, k + verb[1], "site", _label(lat, site, verb[0]), verb[0], site, lat))
            elif k < n and toks[k] in _NEG_FORM_T:  # "your abdomen is nontender"
                f = _NEG_FORM_T[toks[k]]
                out.append(Composed(i, k + 1, "site", _label(lat, site, f), f, site, lat, negated=True))
        # B: "pain in my right knee", "tenderness to palpation over the medial epicondyle"
        if toks[i] in _FIND_T:
            j = _palpation(toks, i + 1)
            finding = _by_touch(_FIND_T[toks[i]], toks, i + 1, j)
            while j < n and toks[j] in _SPREAD and j - i < 4:
                j += 1
            if j < n and toks[j] in _PREPS_N:
                j += 1
                # "of the of the left medial knee", "of the frontal or maxillary sinuses"
                while j < n and (toks[j] in _DETS_N or toks[j] in _PREPS_N or toks[j] in _SITE_ADJ) and j - i < 9:
                    j += 1
                ls = _lat_site(toks, j)
                if ls is not None and (j + ls[2] >= n or toks[j + ls[2]] not in _EXAM):  # "on your knee exam"
                    lat, site, used = ls
                    out.append(Composed(i, j + used, "site", _label(lat, site, finding), finding, site, lat))
        # organs: "enlarged thyroid", "thyroid is (not) enlarged"
        if toks[i] in _ENLARGED_N:
            org = _longest(_ORGAN_T, toks, i + 1)
            if org is not None:
                out.append(Composed(i, i + 1 + org[1], "site", f"enlarged {org[0]}", "enlargement", org[0], None))
        org = _longest(_ORGAN_T, toks, i)
        if org is not None:
            k = i + org[1]
            while k < n and (toks[k] in _LINKS_N or toks[k] == "not") and k - i < 6:
                k += 1
            if k < n and toks[k] in _ENLARGED_N:
                neg = "not" in toks[i:k]
                out.append(Composed(i, k + 1, "site", f"enlarged {org[0]}", "enlargement", org[0], None, negated=neg))
    return out


def lab_findings(toks: Sequence[str]) -> list[Composed]:
    out: list[Composed] = []
    n = len(toks)
    for i in range(n):
        hit = None
        for m in (3, 2, 1):
            key = tuple(toks[i : i + m])
            if len(key) == m and key in _ANALYTE_T:
                hit = (_ANALYTE_T[key], m)
                break
        if hit is None:
            continue
        (canon, code_high, code_low), used = hit
        # L1: "elevated a1c", "a little high blood sugar"
        j = i - 1
        while j >= 0 and toks[j] in _PRE_N and i - j < 4:
            j -= 1
        if j >= 0 and (toks[j] in _HIGH or toks[j] in _LOW):
            high = toks[j] in _HIGH
            if (code_high if high else code_low) is not None:
                word = "elevated" if high else "low"
                out.append(Composed(j, i + used, "lab", f"{word} {canon}", word, canon, None, high))
                continue
        # L2: "your a1c is a little high", "hemoglobin came back low"
        k = i + used
        while k < n and (toks[k] in _GAP_N or toks[k] == "not") and k - i - used < 6:
            k += 1
        if k < n and (toks[k] in _HIGH or toks[k] in _LOW):
            high = toks[k] in _HIGH
            if (code_high if high else code_low) is not None:
                word = "elevated" if high else "low"
                neg = "not" in toks[i + used : k]
                out.append(Composed(i, k + 1, "lab", f"{word} {canon}", word, canon, None, high, negated=neg))
    return out


def analyte_code(canon: str, high: bool) -> str | None:
    for name, code_high, code_low in ANALYTES.values():
        if name == canon:
            return code_high if high else code_low
    return None


_GAIN = frozenset({"gained", "gain", "gaining", "put", "on"})
_LOSS = frozenset({"lost", "lose", "losing", "dropped"})
_ABOUT = frozenset({"about", "like", "around", "almost", "over", "nearly", "maybe", "some", "a", "few", "couple", "of"})
_POUNDS = frozenset({"pound", "lb", "lbs", "kilo", "kg"})


def weight_changes(toks: Sequence[str]) -> list[Composed]:
    """ "i gained about ten pounds", "lost 20 lbs": a weight change said with its amount."""
    out: list[Composed] = []
    for i, t in enumerate(toks):
        if t not in _GAIN and t not in _LOSS:
            continue
        j = i + 1
        while j < len(toks) and (toks[j] in _ABOUT or toks[j] in _GAIN) and j - i < 5:
            j += 1
        k = j
        while k < len(toks) and (toks[k].replace(".", "").isdigit() or toks[k] in _NUMBER_WORDS) and k - j < 3:
            k += 1
        if k > j and k < len(toks) and toks[k] in _POUNDS:
            name = "weight gain" if t in _GAIN else "weight loss"
            out.append(Composed(i, k + 1, "weight", name, name, "weight", None))
    return out
