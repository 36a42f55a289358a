"""The LLM drafter: one schema-constrained request per section, the transcript as quoted data.

Drafters take a `DraftRequest` (plain data, no database) and return a `Draft`; `request.sections` limits
the work to the named sections (what noteRegenerate needs). `DeterministicDrafter` (no model) lives in
`deterministic.py`; `FallbackDrafter` switches to it when the model cannot be reached. A section whose
answer has letters of another script is asked once more, then drafted by the deterministic drafter
(`DraftSection.fallback_reason` says so); never stripped of them.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from dataclasses import asdict, dataclass, replace
from typing import Any, Protocol

from openai.types.chat import ChatCompletionMessageParam

from notes.drafting.concepts import mark_allergies
from notes.drafting.injection import detect_injection
from notes.drafting.llm import JsonCompletion, LlmClient, LlmError
from notes.drafting.prompts import PROMPT_VERSION, PromptIds, build_messages, parse_sentences, salvage_items
from notes.drafting.retrieval import RetrievalBudget, retrieve
from notes.drafting.script import other_script_count
from notes.drafting.types import (
    Draft,
    DrafterInfo,
    DraftRequest,
    DraftSection,
    DraftSentence,
    SectionTemplate,
)

log = logging.getLogger(__name__)


class Drafter(Protocol):
    @property
    def info(self) -> DrafterInfo: ...

    async def draft(self, request: DraftRequest) -> Draft: ...


def input_digest(request: DraftRequest) -> str:
    """sha256 over everything the draft may depend on (not the drafter: that is in `DrafterInfo`)."""
    payload: dict[str, Any] = {
        "segments": [asdict(s) for s in request.segments],
        "findings": [asdict(f) for f in request.findings],
        "prior_notes": [
            {"id": n.id, "signed_at": n.signed_at.isoformat(), "sections": n.sections} for n in request.prior_notes
        ],
        "template": [request.template.id, request.template.version],
        "sections": list(request.section_kinds()),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def usable_request(request: DraftRequest) -> tuple[DraftRequest, tuple[str, ...]]:
    """The request minus segments that read like instructions to the model, and the findings read from
    them: the model never sees them, so it cannot follow them. Drugs said in an allergy list are marked
    as allergies (`concepts.mark_allergies`). Returns (request, withheld segment ids)."""
    withheld = tuple(dict.fromkeys(f.segment_id for f in detect_injection(request.segments)))
    findings = mark_allergies(request.findings, request.segments)
    if not withheld:
        return replace(request, findings=findings), ()
    gone = set(withheld)
    return (
        DraftRequest(
            segments=tuple(s for s in request.segments if s.id not in gone),
            findings=tuple(f for f in findings if f.segment_id not in gone),
            prior_notes=request.prior_notes,
            template=request.template,
            sections=request.sections,
        ),
        withheld,
    )


@dataclass(frozen=True, slots=True)
class SectionStats:
    kind: str
    seconds: float
    prompt_tokens: int | None
    completion_tokens: int | None
    truncated: bool
    dropped_ids: int
    retried: bool = False  # the first answer had letters of another script
    other_script: int = 0  # such letters left after the retry: the section falls back


# Said only on the retry: the first prompt stays the same for every section (the server caches it).
ENGLISH_ONLY = (
    "Your answer contained letters that are not English. Write every sentence in English, with Latin letters "
    "only: no Chinese or other scripts."
)


def _letters(sentences: list[DraftSentence]) -> int:
    return sum(other_script_count(s.text) for s in sentences)


class LlmDrafter:
    def __init__(
        self,
        client: LlmClient,
        *,
        budget: RetrievalBudget | None = None,
        max_tokens_per_section: int = 400,
        concurrency: int = 1,  # >1 only for endpoints that serve requests in parallel (not the local CPU one)
        section_fallback: Drafter | None = None,
    ) -> None:
        self._client = client
        self._budget = budget or RetrievalBudget()
        self._max_tokens = max_tokens_per_section
        self._concurrency = max(1, concurrency)
        if section_fallback is None:
            from notes.drafting.deterministic import DeterministicDrafter  # it imports this module

            section_fallback = DeterministicDrafter()
        # Drafts a section whose answers were refused (letters of another script, twice).
        self._section_fallback = section_fallback

    @property
    def info(self) -> DrafterInfo:
        return DrafterInfo(kind="LLM", model=self._client.settings.model, prompt_version=PROMPT_VERSION)

    @property
    def client(self) -> LlmClient:
        """The model client (the grounding pass in `finalize` asks the same model for repairs)."""
        return self._client

    async def draft(self, request: DraftRequest) -> Draft:
        """Raises LlmError subclasses (LlmUnavailable, LlmTimeout, LlmRejected, LlmBadOutput)."""
        usable, withheld = usable_request(request)
        gate = asyncio.Semaphore(self._concurrency)

        async def one(kind: str) -> tuple[DraftSection, SectionStats]:
            async with gate:
                section, stats = await self._section(usable, request.template.section(kind))
            if stats.other_script:
                section = await self._fall_back(request, section, f"LLM_OTHER_SCRIPT:{stats.other_script}")
            return section, stats

        results = await asyncio.gather(*(one(k) for k in request.section_kinds()))
        for _, stats in results:  # counts and timings only: never text
            log.info("drafted section", extra=asdict(stats))
        return Draft(
            sections=tuple(section for section, _ in results),
            drafter=self.info,
            input_digest=input_digest(request),
            withheld_segment_ids=withheld,
        )

    async def _section(self, request: DraftRequest, section: SectionTemplate) -> tuple[DraftSection, SectionStats]:
        context = retrieve(request, section, self._budget)
        if not (context.segments or context.findings or context.chart):
            empty = DraftSection(kind=section.kind, title=section.title, sentences=())
            return empty, SectionStats(section.kind, 0.0, 0, 0, False, 0)
        messages, schema, ids = build_messages(section, context)
        # Budget the answer by the section's sentence limit: ~45 tokens a sentence with its evidence.
        max_tokens = min(self._max_tokens, 40 + 45 * section.max_sentences)
        started = time.monotonic()

        async def ask(prompt: list[ChatCompletionMessageParam]) -> tuple[JsonCompletion, list[DraftSentence], int]:
            answer = await self._client.complete_json(
                prompt, schema, schema_name=f"{section.kind.lower()}_section", max_tokens=max_tokens
            )
            return answer, *self._sentences(answer, ids, section.max_sentences)

        completion, sentences, dropped = await ask(messages)
        retried = _letters(sentences) > 0
        if retried:
            try:
                second = await ask([*messages, {"role": "user", "content": ENGLISH_ONLY}])
            except LlmError as exc:  # the first answer stands, and falls back below
                log.warning("retry failed", extra={"section": section.kind, "error": type(exc).__name__})
            else:
                if _letters(second[1]) <= _letters(sentences):
                    completion, sentences, dropped = second
        stats = SectionStats(
            kind=section.kind,
            seconds=time.monotonic() - started,
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
            truncated=completion.truncated,
            dropped_ids=dropped,
            retried=retried,
            other_script=_letters(sentences),
        )
        section_draft = DraftSection(
            kind=section.kind, title=section.title, sentences=tuple(sentences), incomplete=completion.truncated
        )
        return section_draft, stats

    @staticmethod
    def _sentences(completion: JsonCompletion, ids: PromptIds, limit: int) -> tuple[list[DraftSentence], int]:
        if completion.data is not None:
            items = completion.data.get("sentences")
            items = items if isinstance(items, list) else []
        else:
            items = salvage_items(completion.text)
        return parse_sentences(items, ids, limit)

    async def _fall_back(self, request: DraftRequest, section: DraftSection, reason: str) -> DraftSection:
        """The fallback drafter's section in place of a refused answer, labelled with why; the model's
        sentences stay when it has nothing to say there (the claim checks label them)."""
        backup = await self._section_fallback.draft(replace(request, sections=(section.kind,)))
        stand_in = backup.sections[0] if backup.sections else None
        if stand_in is None or not stand_in.sentences:
            return section
        log.warning("section drafted by the fallback drafter", extra={"section": section.kind, "reason": reason})
        return replace(stand_in, fallback_reason=reason)


class FallbackDrafter:
    """Tries `primary`; if the model cannot be reached or answers garbage, drafts with `fallback`.
    The returned Draft's `drafter` says which one wrote it."""

    def __init__(self, primary: Drafter, fallback: Drafter) -> None:
        self._primary = primary
        self._fallback = fallback

    @property
    def info(self) -> DrafterInfo:
        return self._primary.info

    @property
    def primary(self) -> Drafter:
        return self._primary

    async def draft(self, request: DraftRequest) -> Draft:
        try:
            return await self._primary.draft(request)
        except LlmError as exc:
            log.warning("LLM drafting failed (%s); using the deterministic drafter", type(exc).__name__)
            draft = await self._fallback.draft(request)
            reason = f"LLM_FAILED:{type(exc).__name__}"
            # On each section too: the job drafts section by section, and a note whose first section the
            # model wrote must still show which later ones it did not.
            sections = tuple(replace(s, fallback_reason=s.fallback_reason or reason) for s in draft.sections)
            return replace(draft, sections=sections, drafter=replace(draft.drafter, fallback_reason=reason))
