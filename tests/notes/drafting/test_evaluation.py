from __future__ import annotations

import io
import json
from pathlib import Path

from notes.drafting.evaluation import deterministic_factory, dialogue_segments, run_notes_eval_async
from notes.drafting.extraction import Extractor
from tests.notes.drafting import visits

# A stand-in for the dev set's score.py (loaded from a path, as the real one is): medication recall only.
STUB_SCORER = """
def score_encounter(gold, pred):
    names = {m["name"].lower() for m in pred["medications"]}
    gold_meds = [m["name"].lower() for m in gold["gold"]["medications"]]
    hit = sum(1 for g in gold_meds if any(g in n or n in g for n in names))
    return {"medications": (hit, len(gold_meds), len(names)), "problems": (0, len(gold["gold"]["problems"]), 0)}
"""


def record() -> dict[str, object]:
    return {
        "id": "synthetic-1",
        "dialogue": [{"speaker": s.speaker, "text": s.text} for s in visits.segments()],
        "gold": {
            "problems": ["acute bronchitis", "cough"],
            "negated_problems": ["chest pain", "fever"],
            "medications": [{"name": "lisinopril", "dose": "10 mg"}, {"name": "albuterol", "dose": None}],
        },
    }


def test_long_turns_become_several_segments() -> None:
    rec = {"dialogue": [{"speaker": "doctor", "text": " ".join(["word"] * 110)}, {"speaker": "patient", "text": "ok"}]}
    segments = dialogue_segments(rec)
    assert [s.id for s in segments] == ["t0.0", "t0.1", "t1"]
    assert segments[1].end_ms > segments[1].start_ms >= segments[0].end_ms


async def test_notes_eval_reports_the_numbers(tmp_path: Path, extractor: Extractor) -> None:
    data = tmp_path / "dev.jsonl"
    data.write_text(json.dumps(record()) + "\n")
    scorer = tmp_path / "score.py"
    scorer.write_text(STUB_SCORER)
    out = io.StringIO()
    code = await run_notes_eval_async(
        data, drafter_factory=deterministic_factory(), extractor=extractor, scorer_path=scorer, as_json=True, out=out
    )
    assert code == 0
    summary = json.loads(out.getvalue())["summary"]
    assert summary["records"] == 1 and summary["failed"] == 0
    assert summary["supported_share"] == 1.0
    assert summary["meds_not_spoken"] == 0
    assert summary["medication_recall"] == 1.0
    assert summary["seconds_per_note"] is not None and summary["mean_visit_seconds"] > 0
