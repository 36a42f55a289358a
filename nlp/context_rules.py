"""ConText rules for spoken clinical dialogue.

medspaCy's default rules are written for dictated notes ("any other" negates there; in a conversation it
asks). These are ours, with short scopes: a transcript joins clauses with commas or nothing at all, so a
modifier must stop at the start of the next clause ("no fever, my knee hurts"). Contrast words ("but") end
every scope; clause openers (subject pronouns, "so", "okay", a comma before "my") are CLAUSE markers that
end negation, hedges and conditions but not a family-history list; every rule has a maximum scope in tokens.
"""

from __future__ import annotations

from typing import Any

NEGATED = "NEGATED_EXISTENCE"
POSSIBLE = "POSSIBLE_EXISTENCE"
HYPOTHETICAL = "HYPOTHETICAL"
HISTORICAL = "HISTORICAL"
FAMILY = "FAMILY"
ALLERGY = "ALLERGY"
OTHER = "OTHER_PERSON"
TERMINATE = "TERMINATE"
CLAUSE = "CLAUSE"  # a subject pronoun or determiner that may open a clause ("no fever, my knee hurts")
CLAUSE_STRONG = "CLAUSE_STRONG"  # a word that surely opens one ("so", "okay", "because")
SELF = "SELF"  # the patient speaking about themself: ends a relative's scope too
PSEUDO = "PSEUDO"

# (literal, category, direction, max_scope in tokens). Literals are matched on lower-cased tokens; "don't"
# also matches the "do n't" of pre-tokenised transcripts.
_RULES: tuple[tuple[str, str, str, int | None], ...] = (
    # negation, forward
    ("no", NEGATED, "FORWARD", 8),
    ("not", NEGATED, "FORWARD", 4),
    ("never", NEGATED, "FORWARD", 5),
    ("without", NEGATED, "FORWARD", 6),
    ("denies", NEGATED, "FORWARD", 10),
    ("denied", NEGATED, "FORWARD", 10),
    ("deny", NEGATED, "FORWARD", 10),
    ("negative for", NEGATED, "FORWARD", 8),
    ("free of", NEGATED, "FORWARD", 6),
    ("absence of", NEGATED, "FORWARD", 6),
    ("no signs of", NEGATED, "FORWARD", 8),
    ("no sign of", NEGATED, "FORWARD", 8),
    ("no evidence of", NEGATED, "FORWARD", 8),
    ("no history of", NEGATED, "FORWARD", 8),
    ("no family history of", NEGATED, "FORWARD", 8),
    ("no more", NEGATED, "FORWARD", 5),
    ("nor", NEGATED, "FORWARD", 4),
    ("none", NEGATED, "FORWARD", 5),
    ("don't have", NEGATED, "FORWARD", 8),
    ("don't get", NEGATED, "FORWARD", 6),
    ("don't feel", NEGATED, "FORWARD", 6),
    ("don't see", NEGATED, "FORWARD", 8),
    ("don't hear", NEGATED, "FORWARD", 8),
    ("don't appreciate", NEGATED, "FORWARD", 8),
    ("didn't have", NEGATED, "FORWARD", 8),
    ("didn't see", NEGATED, "FORWARD", 8),
    ("didn't notice", NEGATED, "FORWARD", 8),
    ("didn't show", NEGATED, "FORWARD", 8),
    ("doesn't have", NEGATED, "FORWARD", 8),
    ("doesn't show", NEGATED, "FORWARD", 8),
    ("haven't had", NEGATED, "FORWARD", 8),
    ("haven't noticed", NEGATED, "FORWARD", 8),
    ("haven't been", NEGATED, "FORWARD", 6),
    ("hasn't had", NEGATED, "FORWARD", 8),
    ("not having", NEGATED, "FORWARD", 8),
    ("not had", NEGATED, "FORWARD", 8),
    ("not experiencing", NEGATED, "FORWARD", 8),
    ("not seeing", NEGATED, "FORWARD", 8),
    ("not taking", NEGATED, "FORWARD", 6),
    ("stopped taking", NEGATED, "FORWARD", 4),
    ("ruled out", NEGATED, "BIDIRECTIONAL", 6),
    ("rules out", NEGATED, "FORWARD", 6),
    ("resolved", HISTORICAL, "BACKWARD", 4),
    ("went away", HISTORICAL, "BACKWARD", 5),
    ("gone away", HISTORICAL, "BACKWARD", 5),
    # negation, backward ("the covid test was negative", "x-ray showed no fracture" is forward)
    ("is negative", NEGATED, "BACKWARD", 5),
    ("was negative", NEGATED, "BACKWARD", 5),
    *((f"{p} was negative", NEGATED, "BACKWARD", 10) for p in ("that", "it", "which", "and that", "and it")),
    *((f"{p} came back negative", NEGATED, "BACKWARD", 10) for p in ("that", "it", "which")),
    ("wish i had", NEGATED, "FORWARD", 5),
    ("not like", NEGATED, "FORWARD", 6),
    ("were negative", NEGATED, "BACKWARD", 5),
    ("came back negative", NEGATED, "BACKWARD", 6),
    ("is benign", NEGATED, "BACKWARD", 5),
    ("was benign", NEGATED, "BACKWARD", 5),
    ("came back benign", NEGATED, "BACKWARD", 6),
    ("not present", NEGATED, "BACKWARD", 4),
    ("is absent", NEGATED, "BACKWARD", 4),
    ("are absent", NEGATED, "BACKWARD", 4),
    ("is not", NEGATED, "FORWARD", 3),
    ("are not", NEGATED, "FORWARD", 3),
    ("not enlarged", NEGATED, "BACKWARD", 4),
    ("seems not", NEGATED, "FORWARD", 3),
    # phrases that contain a negation word but do not negate a finding
    ("no change", PSEUDO, "PSEUDO", None),
    ("no changes", PSEUDO, "PSEUDO", None),
    ("not sure", PSEUDO, "PSEUDO", None),
    ("not only", PSEUDO, "PSEUDO", None),
    ("not too bad", PSEUDO, "PSEUDO", None),
    ("not bad", PSEUDO, "PSEUDO", None),
    ("no problem", PSEUDO, "PSEUDO", None),
    ("no problems", PSEUDO, "PSEUDO", None),
    ("not worried", PSEUDO, "PSEUDO", None),
    ("not too worried", PSEUDO, "PSEUDO", None),
    ("not much", PSEUDO, "PSEUDO", None),
    ("not necessarily", PSEUDO, "PSEUDO", None),
    ("no longer", PSEUDO, "PSEUDO", None),
    ("not getting better", PSEUDO, "PSEUDO", None),
    ("not improving", PSEUDO, "PSEUDO", None),
    ("not going away", PSEUDO, "PSEUDO", None),
    ("doesn't seem to be getting better", PSEUDO, "PSEUDO", None),
    ("not helping", PSEUDO, "PSEUDO", None),
    ("doesn't help", PSEUDO, "PSEUDO", None),
    ("didn't help", PSEUDO, "PSEUDO", None),
    ("not controlled", PSEUDO, "PSEUDO", None),
    ("not well controlled", PSEUDO, "PSEUDO", None),
    ("not under control", PSEUDO, "PSEUDO", None),
    ("no relief", PSEUDO, "PSEUDO", None),
    ("not a lot", PSEUDO, "PSEUDO", None),
    ("no doubt", PSEUDO, "PSEUDO", None),
    ("no matter", PSEUDO, "PSEUDO", None),
    ("showing signs of", PSEUDO, "PSEUDO", None),
    ("shows signs of", PSEUDO, "PSEUDO", None),
    # "... or you develop a fever": a pronoun after "or" continues the clause
    ("or you", PSEUDO, "PSEUDO", None),
    ("or it", PSEUDO, "PSEUDO", None),
    ("or your", PSEUDO, "PSEUDO", None),
    # uncertainty: hedged items are neither present nor denied
    ("possible", POSSIBLE, "FORWARD", 5),
    ("possibly", POSSIBLE, "BIDIRECTIONAL", 5),
    ("probable", POSSIBLE, "FORWARD", 4),
    ("might have", POSSIBLE, "FORWARD", 6),
    ("may have", POSSIBLE, "FORWARD", 6),
    ("could have", POSSIBLE, "FORWARD", 6),
    ("could be", POSSIBLE, "FORWARD", 6),
    ("might be", POSSIBLE, "FORWARD", 6),
    ("may be", POSSIBLE, "FORWARD", 6),
    ("suspect", POSSIBLE, "FORWARD", 6),
    ("suspicious for", POSSIBLE, "FORWARD", 6),
    ("concerned about", POSSIBLE, "FORWARD", 6),
    ("concerned that", POSSIBLE, "FORWARD", 8),
    ("concerned you", POSSIBLE, "FORWARD", 8),
    ("worried about", POSSIBLE, "FORWARD", 6),
    ("worried that", POSSIBLE, "FORWARD", 8),
    ("concern for", POSSIBLE, "FORWARD", 6),
    ("rule out", POSSIBLE, "FORWARD", 6),
    ("questionable", POSSIBLE, "FORWARD", 4),
    ("don't think", POSSIBLE, "FORWARD", 8),
    ("didn't think", POSSIBLE, "FORWARD", 8),
    ("not sure if", POSSIBLE, "FORWARD", 8),
    ("not sure whether", POSSIBLE, "FORWARD", 8),
    ("wondering if", POSSIBLE, "FORWARD", 8),
    ("unlikely", POSSIBLE, "BIDIRECTIONAL", 5),
    ("pending", POSSIBLE, "BACKWARD", 6),
    ("versus", POSSIBLE, "BIDIRECTIONAL", 4),
    ("differential", POSSIBLE, "FORWARD", 8),
    ("sounds like", POSSIBLE, "FORWARD", 6),
    ("to see if", POSSIBLE, "FORWARD", 8),
    ("to make sure", POSSIBLE, "FORWARD", 8),
    ("evaluate for", POSSIBLE, "FORWARD", 6),
    ("check for", POSSIBLE, "FORWARD", 6),
    ("test for", POSSIBLE, "FORWARD", 6),
    ("screen for", POSSIBLE, "FORWARD", 6),
    ("look for", POSSIBLE, "FORWARD", 6),
    ("looks for", POSSIBLE, "FORWARD", 8),
    ("screening for", POSSIBLE, "FORWARD", 6),
    ("checks for", POSSIBLE, "FORWARD", 6),
    ("which i don't think", POSSIBLE, "BACKWARD", 8),
    ("which i don't think you have", POSSIBLE, "BACKWARD", 8),
    ("looking for", POSSIBLE, "FORWARD", 6),
    ("work up", POSSIBLE, "FORWARD", 6),
    # hypothetical: conditions, warnings, prevention, side effects
    ("if", HYPOTHETICAL, "FORWARD", 14),
    ("give us a call", HYPOTHETICAL, "FORWARD", 16),
    ("give me a call", HYPOTHETICAL, "FORWARD", 16),
    # "if you ...", "don't think you ...": the pronoun belongs to the modifier, so it does not terminate it
    *(
        (f"if {p}", HYPOTHETICAL, "FORWARD", 14)
        for p in ("you", "i", "he", "she", "it", "it's", "they", "we", "there", "your", "that")
    ),
    *(
        (f"{c} {p}", POSSIBLE, "FORWARD", 8)
        for c in (
            "don't think",
            "didn't think",
            "to make sure",
            "to see if",
            "worried that",
            "concerned that",
            "not sure if",
            "wondering if",
        )
        for p in ("you", "i", "he", "she", "it", "it's", "there", "your", "this", "that")
    ),
    *(
        (f"{c} if {p}", HYPOTHETICAL, "FORWARD", 8)
        for c in ("call me", "let me know")
        for p in ("you", "it", "your", "there", "that")
    ),
    ("in case", HYPOTHETICAL, "FORWARD", 8),
    ("unless", HYPOTHETICAL, "FORWARD", 8),
    ("whether", HYPOTHETICAL, "FORWARD", 6),
    ("should you", HYPOTHETICAL, "FORWARD", 8),
    ("watch for", HYPOTHETICAL, "FORWARD", 8),
    ("watch out for", HYPOTHETICAL, "FORWARD", 8),
    ("look out for", HYPOTHETICAL, "FORWARD", 8),
    ("signs of", HYPOTHETICAL, "FORWARD", 5),
    ("sign of", HYPOTHETICAL, "FORWARD", 5),
    ("risk of", HYPOTHETICAL, "FORWARD", 6),
    ("risks of", HYPOTHETICAL, "FORWARD", 12),
    ("risks", HYPOTHETICAL, "FORWARD", 12),
    # a list of possibilities ("possible causes are alcohol, fatty liver disease, hepatitis, cirrhosis")
    ("possible causes", HYPOTHETICAL, "FORWARD", 25),
    ("causes include", HYPOTHETICAL, "FORWARD", 25),
    ("other causes", HYPOTHETICAL, "FORWARD", 25),
    ("reasons why", HYPOTHETICAL, "FORWARD", 25),
    ("other reasons", HYPOTHETICAL, "FORWARD", 25),
    ("things like", HYPOTHETICAL, "FORWARD", 10),
    ("such as", HYPOTHETICAL, "FORWARD", 10),
    ("diseases like", HYPOTHETICAL, "FORWARD", 10),
    ("conditions like", HYPOTHETICAL, "FORWARD", 10),
    ("reasons to have", HYPOTHETICAL, "FORWARD", 15),
    ("risk for", HYPOTHETICAL, "FORWARD", 6),
    ("at risk", HYPOTHETICAL, "FORWARD", 6),
    ("chance of", HYPOTHETICAL, "FORWARD", 6),
    ("prevent", HYPOTHETICAL, "FORWARD", 8),
    ("preventing", HYPOTHETICAL, "FORWARD", 8),
    ("prevention", HYPOTHETICAL, "FORWARD", 8),
    ("complications like", HYPOTHETICAL, "FORWARD", 10),
    ("complications such as", HYPOTHETICAL, "FORWARD", 10),
    ("side effect", HYPOTHETICAL, "BIDIRECTIONAL", 6),
    ("side effects", HYPOTHETICAL, "BIDIRECTIONAL", 6),
    ("can cause", HYPOTHETICAL, "FORWARD", 8),
    ("could cause", HYPOTHETICAL, "FORWARD", 6),
    ("may cause", HYPOTHETICAL, "FORWARD", 6),
    ("might cause", HYPOTHETICAL, "FORWARD", 6),
    ("can lead to", HYPOTHETICAL, "FORWARD", 6),
    ("lead to", HYPOTHETICAL, "FORWARD", 6),
    ("cause", HYPOTHETICAL, "FORWARD", 4),
    ("would", HYPOTHETICAL, "FORWARD", 6),
    ("call me", HYPOTHETICAL, "FORWARD", 8),
    ("let me know", HYPOTHETICAL, "FORWARD", 8),
    ("go to the er", HYPOTHETICAL, "FORWARD", 8),
    ("worst", HYPOTHETICAL, "FORWARD", 4),
    # history (kept as the patient's problem: past history counts; recorded for consumers)
    ("history of", HISTORICAL, "FORWARD", 8),
    ("past medical history", HISTORICAL, "FORWARD", 10),
    ("in the past", HISTORICAL, "BIDIRECTIONAL", 6),
    ("used to", HISTORICAL, "FORWARD", 6),
    ("when i was a kid", HISTORICAL, "BIDIRECTIONAL", 6),
    ("as a kid", HISTORICAL, "BIDIRECTIONAL", 6),
    ("as a child", HISTORICAL, "BIDIRECTIONAL", 6),
    ("years ago", HISTORICAL, "BACKWARD", 6),
    ("status post", HISTORICAL, "FORWARD", 6),
    ("previously", HISTORICAL, "BIDIRECTIONAL", 5),
    ("prior", HISTORICAL, "FORWARD", 4),
    ("had a", HISTORICAL, "FORWARD", 4),
    # family and other people: their problems are not the patient's
    ("family history", FAMILY, "FORWARD", 25),
    ("family history of", FAMILY, "FORWARD", 25),
    ("family medical history", FAMILY, "FORWARD", 25),
    ("runs in the family", FAMILY, "BACKWARD", 6),
    ("runs in my family", FAMILY, "BACKWARD", 6),
    ("in my family", FAMILY, "BIDIRECTIONAL", 6),
    ("mother", FAMILY, "BIDIRECTIONAL", 6),
    ("mom", FAMILY, "BIDIRECTIONAL", 6),
    ("father", FAMILY, "BIDIRECTIONAL", 6),
    ("dad", FAMILY, "BIDIRECTIONAL", 6),
    ("sister", FAMILY, "BIDIRECTIONAL", 6),
    ("brother", FAMILY, "BIDIRECTIONAL", 6),
    ("sibling", FAMILY, "BIDIRECTIONAL", 6),
    ("siblings", FAMILY, "BIDIRECTIONAL", 6),
    ("parents", FAMILY, "BIDIRECTIONAL", 6),
    ("grandmother", FAMILY, "BIDIRECTIONAL", 6),
    ("grandfather", FAMILY, "BIDIRECTIONAL", 6),
    ("grandma", FAMILY, "BIDIRECTIONAL", 6),
    ("grandpa", FAMILY, "BIDIRECTIONAL", 6),
    ("aunt", FAMILY, "BIDIRECTIONAL", 6),
    ("uncle", FAMILY, "BIDIRECTIONAL", 6),
    ("cousin", FAMILY, "BIDIRECTIONAL", 6),
    ("son", FAMILY, "BIDIRECTIONAL", 6),
    ("daughter", FAMILY, "BIDIRECTIONAL", 6),
    ("kids", FAMILY, "BIDIRECTIONAL", 4),
    ("wife", FAMILY, "BIDIRECTIONAL", 5),
    ("husband", FAMILY, "BIDIRECTIONAL", 5),
    ("spouse", FAMILY, "BIDIRECTIONAL", 5),
    ("partner", FAMILY, "BIDIRECTIONAL", 5),
    # someone else, when the patient is the one talking ("my sister ... she has irritable bowel syndrome");
    # the engine applies these only to the patient's own turns
    *(
        (f"{p} {v}", OTHER, "FORWARD", 8)
        for p in ("she", "he", "they")
        for v in ("has", "had", "have", "'s had", "'s got", "got")
    ),
    # allergies: a drug named here is not a medication the patient takes
    ("allergic to", ALLERGY, "FORWARD", 12),
    ("allergy to", ALLERGY, "FORWARD", 10),
    ("allergies to", ALLERGY, "FORWARD", 12),
    ("allergic reaction to", ALLERGY, "FORWARD", 10),
    ("reaction to", ALLERGY, "FORWARD", 6),
    ("allergy", ALLERGY, "BACKWARD", 3),
    ("allergies", ALLERGY, "BIDIRECTIONAL", 10),
    ("intolerant to", ALLERGY, "FORWARD", 6),
    # contrast: every modifier stops here ("no fever but a cough")
    ("but", TERMINATE, "TERMINATE", None),
    ("however", TERMINATE, "TERMINATE", None),
    ("though", TERMINATE, "TERMINATE", None),
    ("although", TERMINATE, "TERMINATE", None),
    ("except", TERMINATE, "TERMINATE", None),
    ("aside from", TERMINATE, "TERMINATE", None),
    ("other than", TERMINATE, "TERMINATE", None),
    ("apart from", TERMINATE, "TERMINATE", None),
    ("besides", TERMINATE, "TERMINATE", None),
    # clause openers: negation, hedges and conditions stop here, a family-history list does not
    ("which", CLAUSE_STRONG, "PSEUDO", None),
    ("so", CLAUSE_STRONG, "PSEUDO", None),
    ("because", CLAUSE_STRONG, "PSEUDO", None),
    ("'cause", CLAUSE_STRONG, "PSEUDO", None),
    ("since", CLAUSE_STRONG, "PSEUDO", None),
    ("then", CLAUSE_STRONG, "PSEUDO", None),
    ("otherwise", CLAUSE_STRONG, "PSEUDO", None),
    ("now", CLAUSE_STRONG, "PSEUDO", None),
    ("yet", CLAUSE, "PSEUDO", None),
    ("still", CLAUSE, "PSEUDO", None),
    ("okay", CLAUSE_STRONG, "PSEUDO", None),
    ("alright", CLAUSE_STRONG, "PSEUDO", None),
    ("all right", CLAUSE_STRONG, "PSEUDO", None),
    ("yes", CLAUSE_STRONG, "PSEUDO", None),
    ("yeah", CLAUSE_STRONG, "PSEUDO", None),
    ("i", SELF, "PSEUDO", None),
    ("i'm", SELF, "PSEUDO", None),
    ("i've", SELF, "PSEUDO", None),
    ("me", SELF, "PSEUDO", None),
    ("you", CLAUSE, "PSEUDO", None),
    ("he", CLAUSE, "PSEUDO", None),
    ("she", CLAUSE, "PSEUDO", None),
    ("we", CLAUSE, "PSEUDO", None),
    ("they", CLAUSE, "PSEUDO", None),
    ("it", CLAUSE, "PSEUDO", None),
    ("it's", CLAUSE, "PSEUDO", None),
    ("there", CLAUSE, "PSEUDO", None),
    ("that's", CLAUSE, "PSEUDO", None),
    ("this", CLAUSE, "PSEUDO", None),
    ("your", CLAUSE, "PSEUDO", None),
    ("and the", CLAUSE, "PSEUDO", None),
    ("and your", CLAUSE, "PSEUDO", None),
    ("on exam", CLAUSE, "PSEUDO", None),
    ("exam", CLAUSE, "PSEUDO", None),
    (";", CLAUSE, "PSEUDO", None),
)


# Medication-only cues: a drug to avoid is not one the patient takes ("avoid ibuprofen"); one the patient
# has only heard about is not taken either. (name, category, direction, scope, token words)
_MEDICATION_RULES: tuple[tuple[str, str, str, int, tuple[str, ...]], ...] = (
    ("avoid (drug)", NEGATED, "FORWARD", 6, ("to?", "avoid")),
    ("stay away from (drug)", NEGATED, "FORWARD", 6, ("stay", "away", "from")),
    ("hold off on (drug)", NEGATED, "FORWARD", 6, ("hold", "off", "on")),
    ("can't take (drug)", NEGATED, "FORWARD", 6, ("ca", "n't", "take")),
    ("shouldn't take (drug)", NEGATED, "FORWARD", 6, ("should", "n't", "take")),
    ("don't take (drug)", NEGATED, "FORWARD", 6, ("do", "n't", "take")),
    ("hearing that (drug)", POSSIBLE, "FORWARD", 6, ("hearing", "that")),
    ("heard that (drug)", POSSIBLE, "FORWARD", 6, ("heard", "that")),
    ("heard of (drug)", POSSIBLE, "BACKWARD", 8, ("heard", "of")),
    ("heard about (drug)", POSSIBLE, "FORWARD", 6, ("heard", "about")),
)

# Which entity labels each category may modify (None: all).
_ALLOWED: dict[str, set[str] | None] = {
    FAMILY: {"PROBLEM"},
    OTHER: {"PROBLEM"},
    ALLERGY: {"MEDICATION"},
    POSSIBLE: {"PROBLEM"},
}


# After a comma, these open a new clause ("no fever, my knee hurts"); inside a list they do not occur.
CLAUSE_AFTER_COMMA: tuple[str, ...] = (
    "my",
    "his",
    "her",
    "our",
    "their",
    "the",
    "i",
    "i'm",
    "it",
    "that",
    "we",
    "he",
    "she",
    "they",
)


# Categories whose scope ends at a clause opener (set on each rule: medspaCy's `terminating_types` config
# arrives as a one-shot iterator and only reaches the first rule of each category).
TERMINATING_TYPES: dict[str, list[str]] = {
    **{c: [CLAUSE, CLAUSE_STRONG, SELF] for c in (NEGATED, HISTORICAL, ALLERGY, OTHER)},
    # a hedge or a condition runs on over pronouns: "if the pain gets worse or you develop a fever"
    **{c: [CLAUSE_STRONG, SELF] for c in (POSSIBLE, HYPOTHETICAL)},
    FAMILY: [SELF],
}


# Conditions that make a prescription conditional ("if the test is positive, start amoxicillin"); other
# hypothetical cues ("side effects", "can cause") say nothing about whether a drug is taken.
_CONDITIONAL = frozenset({"if", "in case", "unless", "should you"})


def _allowed(literal: str, category: str) -> set[str] | None:
    if category == HYPOTHETICAL and not (literal in _CONDITIONAL or literal.startswith("if ")):
        return {"PROBLEM"}
    return _ALLOWED.get(category)


def _marker_scope(direction: str, scope: int | None) -> int | None:
    # Markers that only end other scopes get a one-token scope: medspaCy 1.3.1 tests scope overlap one way
    # only, and a sentence-wide marker scope that contains a modifier's scope is not seen as overlapping it.
    return 1 if direction in ("PSEUDO", "TERMINATE") else scope


def context_rules() -> list[Any]:
    """Fresh medspaCy ConTextRule objects (imported lazily: this module stays spaCy-free)."""
    from medspacy.context import ConTextRule

    rules = [
        ConTextRule(
            literal,
            category,
            direction=direction,
            max_scope=_marker_scope(direction, scope),
            allowed_types=_allowed(literal, category),
            terminated_by=set(TERMINATING_TYPES.get(category, ())),
        )
        for literal, category, direction, scope in _RULES
    ]
    for name, category, direction, scope, words in _MEDICATION_RULES:
        rules.append(
            ConTextRule(
                name,
                category,
                direction=direction,
                max_scope=scope,
                allowed_types={"MEDICATION"},
                terminated_by=set(TERMINATING_TYPES.get(category, ())),
                pattern=[{"LOWER": w[:-1], "OP": "?"} if w.endswith("?") else {"LOWER": w} for w in words],
            )
        )
    rules.append(
        ConTextRule(
            "comma clause break",
            CLAUSE,
            direction="PSEUDO",
            max_scope=1,
            pattern=[{"TEXT": ","}, {"LOWER": {"IN": list(CLAUSE_AFTER_COMMA)}}],
        )
    )
    return rules
