"""Note drafting: plain data in (transcript segments, findings, prior notes, a template), a draft out,
then the grounding gate (claim checks). No database here; the `draft` job maps rows to these types.

    request = DraftRequest(segments, findings, prior_notes, load_template("soap"), sections=None)
    async with LlmClient(settings) as client:
        draft = await FallbackDrafter(LlmDrafter(client), DeterministicDrafter()).draft(request)
    report = check_claims(draft, findings, segments, extractor, prior_notes=prior_notes)

The local zero-config model lives in `notes.drafting.local_server` (imported on demand: the API process
stays light unless it starts one).
"""

from notes.drafting.claims import CHECKER_VERSION, check_claims
from notes.drafting.deterministic import DeterministicDrafter
from notes.drafting.drafter import Drafter, FallbackDrafter, LlmDrafter
from notes.drafting.extraction import Extractor, findings_to_sources
from notes.drafting.injection import detect_injection
from notes.drafting.llm import (
    LlmBadOutput,
    LlmClient,
    LlmError,
    LlmRejected,
    LlmSettings,
    LlmTimeout,
    LlmUnavailable,
)
from notes.drafting.prompts import PROMPT_VERSION
from notes.drafting.template import available_templates, load_template
from notes.drafting.types import (
    CheckedSentence,
    ClaimReport,
    Draft,
    DrafterInfo,
    DraftRequest,
    DraftSection,
    DraftSentence,
    InjectionFlag,
    NoteTemplate,
    Omission,
    PriorNote,
    SentenceSupport,
    SourceFinding,
    SourceSegment,
)

__all__ = [
    "CHECKER_VERSION",
    "PROMPT_VERSION",
    "CheckedSentence",
    "ClaimReport",
    "DeterministicDrafter",
    "Draft",
    "DraftRequest",
    "DraftSection",
    "DraftSentence",
    "Drafter",
    "DrafterInfo",
    "Extractor",
    "FallbackDrafter",
    "InjectionFlag",
    "LlmBadOutput",
    "LlmClient",
    "LlmDrafter",
    "LlmError",
    "LlmRejected",
    "LlmSettings",
    "LlmTimeout",
    "LlmUnavailable",
    "NoteTemplate",
    "Omission",
    "PriorNote",
    "SentenceSupport",
    "SourceFinding",
    "SourceSegment",
    "available_templates",
    "check_claims",
    "detect_injection",
    "findings_to_sources",
    "load_template",
]
