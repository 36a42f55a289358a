"""`ambient eval notes FILE.jsonl [--json]`: draft a note for every record of an evaluation file and
measure it with the claim checks and the gold labels.

Per record: segments are the dialogue turns (long turns cut into ~50-word pieces, as a speech engine would
cut them), findings come from the NLP engine run on those segments, the drafter writes the note, and
`check_claims` labels every sentence. Medication and problem recall of the note against gold reuse the
scorer's matching: `score.py` is loaded from its path at run time (it is not part of this package).
Visit length is estimated from the word count (0.315 s per word, the dev set's TTS calibration).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import importlib.util
import json
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType
from typing import IO, Any, cast

from nlp.types import Passage
from notes.drafting.claims import check_claims
from notes.drafting.deterministic import DeterministicDrafter
from notes.drafting.drafter import Drafter, LlmDrafter
from notes.drafting.extraction import Extractor, findings_to_sources
from notes.drafting.finalize import FinalizeOptions, finalize_draft, repair_client
from notes.drafting.llm import LlmClient, LlmError, LlmSettings
from notes.drafting.script import other_script_count
from notes.drafting.template import load_template
from notes.drafting.types import ClaimReport, Draft, DraftRequest, SentenceSupport, SourceSegment

DEFAULT_FINALIZE = FinalizeOptions()
SECONDS_PER_WORD = 0.315  # eval README: TTS length per dialogue word, gaps included
_PIECE_WORDS = 50
DEFAULT_SCORER = Path("../shared/eval/score.py")

DrafterFactory = Callable[[], AbstractAsyncContextManager[Drafter]]


@dataclass(slots=True)
class RecordResult:
    id: str
    sentences: int = 0
    supported: int = 0
    unsupported: int = 0
    contradicted: int = 0
    dose_mismatch: int = 0
    other_script: int = 0  # sentences labelled OTHER_SCRIPT
    wrong_actor: int = 0  # sentences labelled WRONG_ACTOR (first / second person)
    wrong_status: int = 0  # sentences labelled WRONG_STATUS (start / stop the visit does not say)
    other_script_chars: int = 0  # letters of another script in the final note (the target is 0)
    fallback_sections: int = 0  # sections the deterministic drafter wrote in place of the model's answer
    meds_not_spoken: int = 0  # medication mentions in the note nobody said
    med_tp: int = 0
    med_gold: int = 0
    problem_tp: int = 0
    problem_gold: int = 0
    omitted: int = 0
    injections: int = 0
    arranged: int = 0  # medication sentences added from findings (finalize)
    repair_attempts: int = 0
    repaired: int = 0
    corrected: int = 0  # sentences restated from findings (finalize)
    seconds: float = 0.0  # drafting plus the grounding pass (repairs, checks)
    visit_seconds: float = 0.0
    error: str | None = None
    reasons: dict[str, int] = field(default_factory=dict)


def dialogue_segments(record: dict[str, Any]) -> tuple[SourceSegment, ...]:
    """Dialogue turns as transcript segments; a long turn becomes several ~50-word pieces."""
    out: list[SourceSegment] = []
    clock_ms = 0
    for t, turn in enumerate(record["dialogue"]):
        words = str(turn.get("text", "")).split()
        pieces = [words[i : i + _PIECE_WORDS] for i in range(0, len(words), _PIECE_WORDS)] or [[]]
        # Fold a short tail into the previous piece: a 3-word segment is noise to retrieval.
        if len(pieces) > 1 and len(pieces[-1]) < _PIECE_WORDS // 3:
            tail = pieces.pop()
            pieces[-1] += tail
        for p, piece in enumerate(pieces):
            if not piece:
                continue
            duration = int(len(piece) * SECONDS_PER_WORD * 1000)
            sid = f"t{t}" if len(pieces) == 1 else f"t{t}.{p}"
            out.append(SourceSegment(sid, clock_ms, clock_ms + duration, turn.get("speaker"), " ".join(piece)))
            clock_ms += duration
    return tuple(out)


def load_scorer(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("_ambient_eval_score", path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"cannot load the scorer from {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_extractor(cache_dir: Path | None = None) -> Extractor:
    # Imported by name at run time: spaCy loads only when an evaluation actually runs.
    engine = importlib.import_module("nlp.engine")
    return cast(Extractor, engine.ClinicalNlp.load(cache_dir=cache_dir))


def note_predictions(draft: Draft, extractor: Extractor) -> dict[str, Any]:
    """The note's problems and medications in score.py's prediction format."""
    passages = [
        Passage(id=f"{s.kind}#{i}", text=x.text, speaker="note")
        for s in draft.sections
        for i, x in enumerate(s.sentences)
    ]
    if not passages:
        return {"problems": [], "medications": []}
    found = extractor.extract(passages)
    return {
        "problems": [{"text": p.text, "negated": p.negated} for p in found.problems if not p.family],
        "medications": [
            {
                "name": m.text,
                "dose": " ".join(x for x in (m.dose, m.unit) if x) or None,
                "frequency": m.frequency,
            }
            for m in found.medications
            if not m.negated
        ],
    }


async def eval_record(
    record: dict[str, Any],
    drafter: Drafter,
    extractor: Extractor,
    scorer: ModuleType,
    finalize: FinalizeOptions | None = DEFAULT_FINALIZE,
) -> tuple[RecordResult, Draft | None, ClaimReport | None]:
    """`finalize=None` measures the drafter alone (no repairs, no arranged medications)."""
    segments = dialogue_segments(record)
    words = sum(len(s.text.split()) for s in segments)
    result = RecordResult(id=record["id"], visit_seconds=words * SECONDS_PER_WORD)
    findings = findings_to_sources(extractor.extract([Passage(s.id, s.text, s.speaker) for s in segments]))
    request = DraftRequest(segments=segments, findings=findings, prior_notes=(), template=load_template("soap"))
    started = time.monotonic()
    try:
        draft = await drafter.draft(request)
    except LlmError as exc:
        result.error = type(exc).__name__
        result.seconds = time.monotonic() - started
        return result, None, None
    if finalize is None:
        result.seconds = time.monotonic() - started
        report = check_claims(draft, findings, segments, extractor)
    else:
        draft, report = await finalize_draft(
            draft, request, extractor, repair_client(drafter), started_at=started, options=finalize
        )
        result.seconds = time.monotonic() - started
        result.arranged = draft.arranged_sentences
        result.repair_attempts = draft.repair_attempts
        result.repaired = draft.repaired_sentences
        result.corrected = draft.corrected_sentences
    result.sentences = len(report.sentences)
    result.supported = report.counts[SentenceSupport.SUPPORTED.value]
    result.unsupported = report.counts[SentenceSupport.UNSUPPORTED.value]
    result.contradicted = report.counts[SentenceSupport.CONTRADICTED.value]
    result.dose_mismatch = report.counts[SentenceSupport.DOSE_MISMATCH.value]
    result.other_script = report.counts[SentenceSupport.OTHER_SCRIPT.value]
    result.wrong_actor = report.counts[SentenceSupport.WRONG_ACTOR.value]
    result.wrong_status = report.counts[SentenceSupport.WRONG_STATUS.value]
    result.other_script_chars = sum(other_script_count(x.text) for s in draft.sections for x in s.sentences)
    result.fallback_sections = sum(s.fallback_reason is not None for s in draft.sections)
    result.omitted = len([o for o in report.omissions if not o.negated])
    result.injections = len(report.injections)
    for c in report.sentences:
        for r in c.reasons:
            key = r.split(":", 1)[0]
            result.reasons[key] = result.reasons.get(key, 0) + 1
    result.meds_not_spoken = result.reasons.get("medication_not_spoken", 0)
    scored = scorer.score_encounter(record, note_predictions(draft, extractor))
    result.med_tp, result.med_gold, _ = scored["medications"]
    result.problem_tp, result.problem_gold, _ = scored["problems"]
    return result, draft, report


def summarize(results: Sequence[RecordResult]) -> dict[str, Any]:
    ok = [r for r in results if r.error is None]
    total = sum(r.sentences for r in ok)

    def ratio(a: int, b: int) -> float | None:
        return round(a / b, 4) if b else None

    reasons: dict[str, int] = {}
    for r in ok:
        for k, v in r.reasons.items():
            reasons[k] = reasons.get(k, 0) + v
    return {
        "records": len(results),
        "failed": len(results) - len(ok),
        "sentences": total,
        "supported_share": ratio(sum(r.supported for r in ok), total),
        "unsupported": sum(r.unsupported for r in ok),
        "contradicted": sum(r.contradicted for r in ok),
        "dose_mismatch": sum(r.dose_mismatch for r in ok),
        "other_script": sum(r.other_script for r in ok),
        "other_script_chars": sum(r.other_script_chars for r in ok),
        "wrong_actor": sum(r.wrong_actor for r in ok),
        "wrong_status": sum(r.wrong_status for r in ok),
        "fallback_sections": sum(r.fallback_sections for r in ok),
        "meds_not_spoken": sum(r.meds_not_spoken for r in ok),
        "medication_recall": ratio(sum(r.med_tp for r in ok), sum(r.med_gold for r in ok)),
        "problem_recall": ratio(sum(r.problem_tp for r in ok), sum(r.problem_gold for r in ok)),
        "omitted_findings": sum(r.omitted for r in ok),
        "arranged_sentences": sum(r.arranged for r in ok),
        "repair_attempts": sum(r.repair_attempts for r in ok),
        "repaired_sentences": sum(r.repaired for r in ok),
        "corrected_sentences": sum(r.corrected for r in ok),
        "seconds_per_note": round(sum(r.seconds for r in ok) / len(ok), 1) if ok else None,
        "max_seconds": round(max((r.seconds for r in ok), default=0.0), 1),
        "mean_visit_seconds": round(sum(r.visit_seconds for r in ok) / len(ok), 1) if ok else None,
        "max_time_ratio": round(max((r.seconds / r.visit_seconds for r in ok if r.visit_seconds), default=0.0), 3),
        "reasons": dict(sorted(reasons.items())),
    }


def _print_table(results: Sequence[RecordResult], summary: dict[str, Any], out: IO[str]) -> None:
    out.write(f"{'record':18} {'sent':>4} {'supp':>5} {'uns':>3} {'con':>3} {'dose':>4} {'oth':>3} {'medX':>4} "
              f"{'medR':>5} {'probR':>5} {'sec':>6} {'ratio':>5}\n")  # fmt: skip
    for r in results:
        if r.error:
            out.write(f"{r.id:18} ERROR {r.error}\n")
            continue
        out.write(
            f"{r.id:18} {r.sentences:4d} {r.supported / max(1, r.sentences):5.2f} {r.unsupported:3d} "
            f"{r.contradicted:3d} {r.dose_mismatch:4d} {r.other_script_chars:3d} {r.meds_not_spoken:4d} "
            f"{r.med_tp:2d}/{r.med_gold:<2d} {r.problem_tp:2d}/{r.problem_gold:<2d} {r.seconds:6.1f} "
            f"{r.seconds / max(1.0, r.visit_seconds):5.2f}\n"
        )
    out.write("\n" + "\n".join(f"{k}: {v}" for k, v in summary.items()) + "\n")


async def run_notes_eval_async(
    path: Path,
    *,
    drafter_factory: DrafterFactory,
    extractor: Extractor | None = None,
    scorer_path: Path = DEFAULT_SCORER,
    as_json: bool = False,
    out: IO[str] = sys.stdout,
    limit: int | None = None,
    ids: Sequence[str] = (),
    details: IO[str] | None = None,
    finalize: FinalizeOptions | None = DEFAULT_FINALIZE,
) -> int:
    text = await asyncio.to_thread(path.read_text, "utf-8")
    records = [json.loads(line) for line in text.splitlines() if line.strip()]
    if ids:
        records = [r for r in records if r["id"] in set(ids)]
    records = records[:limit] if limit else records
    scorer = load_scorer(scorer_path)
    nlp = extractor if extractor is not None else await asyncio.to_thread(load_extractor)
    results: list[RecordResult] = []
    async with drafter_factory() as drafter:
        for record in records:
            result, draft, report = await eval_record(record, drafter, nlp, scorer, finalize)
            results.append(result)
            if details is not None:
                details.write(json.dumps(_details(result, draft, report), ensure_ascii=False) + "\n")
                details.flush()
    summary = summarize(results)
    if as_json:
        out.write(json.dumps({"summary": summary, "records": [asdict(r) for r in results]}, indent=2) + "\n")
    else:
        _print_table(results, summary, out)
    return 0 if summary["failed"] == 0 else 1


def _details(result: RecordResult, draft: Draft | None, report: ClaimReport | None) -> dict[str, Any]:
    labels = {(c.section_kind, c.index): c for c in report.sentences} if report else {}
    sections = []
    for s in draft.sections if draft else ():
        sentences = []
        for i, x in enumerate(s.sentences):
            c = labels.get((s.kind, i))
            sentences.append(
                {"text": x.text, "origin": x.origin, "segment_ids": list(x.segment_ids),
                 "finding_ids": list(x.finding_ids), "prior_note_ids": list(x.prior_note_ids),
                 "provenance": x.provenance, "original_text": x.original_text,
                 "label": c.support.value if c else None, "reasons": list(c.reasons) if c else []}
            )  # fmt: skip
        sections.append({"kind": s.kind, "fallback_reason": s.fallback_reason, "sentences": sentences})
    return {
        "result": asdict(result),
        "drafter": asdict(draft.drafter) if draft else None,
        "sections": sections,
        "omissions": [asdict(o) for o in report.omissions] if report else [],
    }


def run_notes_eval(
    path: Path,
    *,
    drafter_factory: DrafterFactory,
    as_json: bool = False,
    out: IO[str] = sys.stdout,
    scorer_path: Path = DEFAULT_SCORER,
    limit: int | None = None,
    finalize: FinalizeOptions | None = DEFAULT_FINALIZE,
) -> int:
    """Synchronous entry point for the CLI (`ambient eval notes`)."""
    return asyncio.run(
        run_notes_eval_async(
            path,
            drafter_factory=drafter_factory,
            as_json=as_json,
            out=out,
            scorer_path=scorer_path,
            limit=limit,
            finalize=finalize,
        )
    )


# ----------------------------------------------------------------------------------------- drafter factories


def deterministic_factory() -> DrafterFactory:
    @contextlib.asynccontextmanager
    async def factory() -> AsyncIterator[Drafter]:
        yield DeterministicDrafter()

    return factory


def endpoint_factory(settings: LlmSettings) -> DrafterFactory:
    @contextlib.asynccontextmanager
    async def factory() -> AsyncIterator[Drafter]:
        async with LlmClient(settings) as client:
            yield LlmDrafter(client)

    return factory


def local_factory(
    home: Path, model_name: str = "auto", threads: int | None = None, server_dir: Path | None = None
) -> DrafterFactory:
    from notes.drafting.local_server import LocalServerOptions, local_llm

    @contextlib.asynccontextmanager
    async def factory() -> AsyncIterator[Drafter]:
        async with contextlib.AsyncExitStack() as stack:
            options = LocalServerOptions(threads=threads, server_dir=server_dir)
            server = await stack.enter_async_context(local_llm(home, model_name, options))
            print(f"drafting with {server.description}", file=sys.stderr)
            client = await stack.enter_async_context(LlmClient(server.settings(timeout_s=600.0)))
            yield LlmDrafter(client)

    return factory


@contextlib.contextmanager
def _maybe_open(path: str | None) -> Iterator[IO[str] | None]:
    if path is None:
        yield None
        return
    with open(path, "w", encoding="utf-8") as f:
        yield f


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m notes.drafting.evaluation")
    parser.add_argument("file", type=Path)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--drafter", default="local", choices=["local", "deterministic", "endpoint"])
    parser.add_argument("--model", default="auto", help="local model: auto, qwen2.5-1.5b, smollm2")
    parser.add_argument("--home", type=Path, default=Path(".ambient"))
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--base-url", default=None)
    parser.add_argument("--endpoint-model", default=None)
    parser.add_argument("--scorer", type=Path, default=DEFAULT_SCORER)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--ids", nargs="*", default=())
    parser.add_argument("--details", default=None, help="write drafts and labels per record (JSONL) here")
    parser.add_argument("--no-repair", action="store_true", help="finalize without asking the model for repairs")
    parser.add_argument("--no-finalize", action="store_true", help="the drafter alone: no repairs, no arranged drugs")
    args = parser.parse_args(argv)
    finalize = None if args.no_finalize else FinalizeOptions(repair=not args.no_repair)
    if args.drafter == "deterministic":
        factory = deterministic_factory()
    elif args.drafter == "endpoint":
        factory = endpoint_factory(LlmSettings(base_url=args.base_url, model=args.endpoint_model))
    else:
        factory = local_factory(args.home, args.model, args.threads)
    with _maybe_open(args.details) as details:
        return asyncio.run(
            run_notes_eval_async(
                args.file,
                drafter_factory=factory,
                scorer_path=args.scorer,
                as_json=args.json,
                limit=args.limit,
                ids=args.ids,
                details=details,
                finalize=finalize,
            )
        )


if __name__ == "__main__":
    raise SystemExit(main())
