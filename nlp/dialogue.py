"""Questions and answers across turns: "any fever or chills?" / "no" denies both; "yes" affirms them.

A finding that is only asked about and never answered is neither present nor denied (the labelling rule of
the dev set, and what a clinician would write). Pure functions over lower-cased token texts.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

_FILLERS = frozenset(
    {
        "um",
        "uh",
        "uhm",
        "er",
        "oh",
        "well",
        "so",
        "hmm",
        "hmmm",
        "ah",
        ",",
        ".",
        "...",
        "-",
        "okay",
        "ok",
        "my",
        "gosh",
        "god",
        "wow",
        "honestly",
        "actually",
    }
)
_POS_FIRST = frozenset(
    {
        "yes",
        "yeah",
        "yep",
        "yup",
        "uh-huh",
        "mm-hmm",
        "mhm",
        "mm",
        "sure",
        "definitely",
        "correct",
        "absolutely",
        "sometimes",
        "occasionally",
        "yea",
        "ya",
        "right",
    }
)
_POS_PHRASES: tuple[tuple[str, ...], ...] = (
    ("i", "do"),
    ("i", "have"),
    ("i", "did"),
    ("i", "am"),
    ("a", "little"),
    ("a", "bit"),
    ("i", "'ve", "been"),
    ("i", "'ve", "had"),
    ("i", "had"),
    ("i", "get"),
    ("i", "'ve", "noticed"),
    ("a", "lot"),
)
# Words that open a question when a transcript carries no question mark ("any chest pain", "have you had").
QUESTION_LEADS: tuple[tuple[str, ...], ...] = (
    ("any",),
    ("have", "you"),
    ("do", "you"),
    ("did", "you"),
    ("are", "you"),
    ("were", "you"),
    ("is", "there"),
    ("are", "there"),
    ("has", "there"),
    ("does", "it"),
    ("how", "about"),
    ("what", "about"),
    ("had", "any"),
    ("you", "have", "any"),
    ("you", "had", "any"),
    ("been", "having"),
    ("do", "they"),
    ("is", "it"),
    ("was", "there"),
    ("did", "it"),
)


class Answer(Enum):
    NO = "no"
    YES = "yes"
    NONE = "none"


_NEG_WORDS = frozenset({"no", "nope", "nah", "not", "n't", "never", "none", "negative"})
_NOT_AN_ANSWER = frozenset({"know", "sure", "remember", "recall", "understand"})
# A question that ends in one of these only seeks agreement ("there is some swelling, okay?").
_TAGS: tuple[tuple[str, ...], ...] = (
    ("okay",),
    ("ok",),
    ("right",),
    ("alright",),
    ("all", "right"),
    ("yeah",),
    ("correct",),
    ("you", "know"),
    ("sound", "good"),
    ("sounds", "good"),
    ("make", "sense"),
    ("does", "that", "sound", "okay"),
    ("fair",),
    ("is", "that", "okay"),
    ("is", "that", "alright"),
    ("hmm",),
    ("huh",),
    ("sound", "okay"),
)


def answer_polarity(tokens: Sequence[str]) -> Answer:
    """How a reply opens: a denial, an affirmation, or neither."""
    raw = [x.lower() for x in tokens[:14]]
    if raw and raw[0] in _POS_FIRST:
        return Answer.YES
    toks = [t for t in raw if t not in _FILLERS]
    if not toks:
        return Answer.NONE
    if toks[0] in _POS_FIRST:
        return Answer.YES
    for i, t in enumerate(toks[:12]):
        # a denial opens the reply, or a bare "no" comes in it ("in certain positions ... but no, just pain")
        if t in _NEG_WORDS and (i < 4 or t in ("no", "nope")):
            if any(w in _NOT_AN_ANSWER for w in toks[i + 1 : i + 3]) or toks[i + 1 : i + 2] in (
                ["problem"],
                ["problems"],
            ):
                return Answer.NONE
            return Answer.NO
    for phrase in _POS_PHRASES:
        if tuple(toks[: len(phrase)]) == phrase:
            return Answer.YES
    return Answer.NONE


def is_tag_question(tokens: Sequence[str]) -> bool:
    """True when a sentence ending in "?" only asks for agreement: ", okay?" after a statement."""
    low = [t.lower() for t in tokens if t not in ("?", ".", "!")]
    for tag in _TAGS:
        n = len(tag)
        if tuple(low[-n:]) == tag and len(low) > n + 2:
            return True
    return False


_QUESTION_TAIL = 35  # an unpunctuated turn's closing question starts within its last words


def question_starts(tokens: Sequence[str]) -> list[int]:
    """Where the questions closing an unpunctuated turn begin (empty when it asks nothing). A reply answers
    the last of them: "any nausea or vomiting? are you peeing a lot?" / "yeah" is about the peeing."""
    low = [t.lower() for t in tokens]
    out: list[int] = []
    for i in range(max(0, len(low) - _QUESTION_TAIL), len(low)):
        is_lead = any(tuple(low[i : i + len(lead)]) == lead for lead in QUESTION_LEADS)
        if is_lead and (not out or i - out[-1] > 2):  # "have you had any": one question
            out.append(i)
    return out
