from __future__ import annotations

from enum import StrEnum


class NoteStatus(StrEnum):
    DRAFTING = "DRAFTING"  # the drafter is writing (or rewriting sections)
    DRAFT = "DRAFT"  # awaiting the clinician's review and signature
    SIGNED = "SIGNED"  # frozen; only addenda may follow
    FAILED = "FAILED"  # drafting failed; see status_reason


class AuthorKind(StrEnum):
    AI = "AI"
    CLINICIAN = "CLINICIAN"


class Provenance(StrEnum):
    """Whose words a sentence is in (the drafter kind says which program or model drafted the note)."""

    MODEL = "MODEL"  # the language model's prose
    ARRANGED = "ARRANGED"  # a finding or a quotation set in fixed words by the program: never AI prose
    REPAIRED = "REPAIRED"  # the model's rewrite of a sentence that failed the checks, kept because it passed
    CLINICIAN = "CLINICIAN"  # typed by the clinician


class SentenceOrigin(StrEnum):
    SAID_TODAY = "SAID_TODAY"
    CARRIED_FORWARD = "CARRIED_FORWARD"
    CLINICIAN = "CLINICIAN"  # written by the clinician while editing


class Support(StrEnum):
    SUPPORTED = "SUPPORTED"
    UNSUPPORTED = "UNSUPPORTED"
    CONTRADICTED = "CONTRADICTED"
    DOSE_MISMATCH = "DOSE_MISMATCH"
    OTHER_SCRIPT = "OTHER_SCRIPT"  # letters of another script (e.g. Chinese) in the English text
    WRONG_ACTOR = "WRONG_ACTOR"  # written in the first or second person: the wrong one speaks or acts
    WRONG_STATUS = "WRONG_STATUS"  # a medication status (start / stop) the visit does not say
    NOT_CHECKED = "NOT_CHECKED"  # clinician-authored text: the clinician's word, not a claim to check
