"""`ambient eval nlp`: run the engine on dev-set records and score it with the dev set's own scorer.

The scorer (`score.py`, beside the records unless `--scorer` says otherwise) is loaded from its path at run
time and given the predictions file, so the numbers are exactly the scorer's; none of its tables are copied
here. The text path feeds each dialogue turn to the engine as one passage; `extract` lets a caller plug in
another path (synthesise -> transcribe -> extract).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

from nlp.summary import summarize_medications, summarize_problems
from nlp.types import Findings, Passage

Record = dict[str, Any]
Extract = Callable[[Record], Findings]


class ScorerNotFound(FileNotFoundError):
    pass


def load_scorer(path: Path) -> ModuleType:
    if not path.is_file():
        raise ScorerNotFound(f"scorer not found: {path} (pass --scorer PATH to the dev set's score.py)")
    spec = importlib.util.spec_from_file_location("ambient_eval_scorer", path)
    if spec is None or spec.loader is None:
        raise ScorerNotFound(f"cannot load scorer: {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not callable(getattr(module, "main", None)):
        raise ScorerNotFound(f"{path} has no main(argv) function")
    return module


def read_records(path: Path) -> list[Record]:
    records: list[Record] = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                records.append(json.loads(line))
    return records


def record_passages(record: Record) -> list[Passage]:
    """Dialogue turns in order, one passage each (ids are the turn indexes)."""
    return [
        Passage(id=str(i), text=str(turn.get("text", "")), speaker=turn.get("speaker"))
        for i, turn in enumerate(record.get("dialogue") or [])
    ]


def prediction(record_id: str, findings: Findings) -> Record:
    """One line of the scorer's predictions format."""
    problems = [{"text": p.text, "negated": p.negated} for p in summarize_problems(findings.problems)]
    meds = [
        {"name": m.name, "dose": m.dose, "frequency": m.frequency} for m in summarize_medications(findings.medications)
    ]
    return {"id": record_id, "problems": problems, "medications": meds}


def text_extractor(cache_dir: Path | None = None) -> Extract:
    """The text path: each dialogue turn is a passage. The engine loads on the first record."""
    from nlp.engine import ClinicalNlp

    engines: list[ClinicalNlp] = []

    def extract(record: Record) -> Findings:
        if not engines:
            engines.append(ClinicalNlp.load(cache_dir))
        return engines[0].extract(record_passages(record))

    return extract


def run_nlp_eval(
    path: Path,
    *,
    as_json: bool,
    predictions_out: Path | None,
    scorer_path: Path | None,
    out: TextIO,
    extract: Extract | None = None,
) -> int:
    """Extract from every record, write predictions, print the scorer's table (or JSON). Returns an exit code."""
    try:
        scorer = load_scorer(scorer_path or path.with_name("score.py"))
    except ScorerNotFound as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    records = read_records(path)
    run = extract or text_extractor()
    lines = [prediction(str(r["id"]), run(r)) for r in records]
    with contextlib.ExitStack() as stack:
        if predictions_out is None:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="ambient-eval-"))
            pred_path = Path(tmp) / "predictions.jsonl"
        else:
            pred_path = predictions_out
            pred_path.parent.mkdir(parents=True, exist_ok=True)
        with pred_path.open("w", encoding="utf-8") as f:
            for line in lines:
                f.write(json.dumps(line) + "\n")
        argv = [str(path), str(pred_path)] + (["--json"] if as_json else [])
        try:
            with contextlib.redirect_stdout(out):
                code = scorer.main(argv)
        except SystemExit as exc:  # the scorer exits on malformed input
            print(f"error: scorer failed: {exc}", file=sys.stderr)
            return 1
    return int(code or 0)


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    """The arguments of `ambient eval nlp` (pass a subparser to add them to a larger CLI). The caller adds
    `--audio` and passes its extractor to `run_nlp_eval`."""
    p = parser or argparse.ArgumentParser(prog="ambient eval nlp", description=__doc__)
    p.add_argument("file", type=Path, help="records in the dev-set format (dialogue turns + gold labels)")
    p.add_argument("--json", action="store_true", help="print the scorer's JSON instead of its table")
    p.add_argument("--predictions", type=Path, help="also write the raw predictions (score.py's format) here")
    p.add_argument("--scorer", type=Path, help="score.py to use (default: score.py next to FILE)")
    p.add_argument("--cache-dir", type=Path, help="vocabulary cache directory")
    return p


def main(argv: Sequence[str] | None = None, extract: Extract | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_nlp_eval(
        args.file,
        as_json=args.json,
        predictions_out=args.predictions,
        scorer_path=args.scorer,
        out=sys.stdout,
        extract=extract or text_extractor(args.cache_dir),
    )


if __name__ == "__main__":
    raise SystemExit(main())
