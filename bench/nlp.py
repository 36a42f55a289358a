"""Benchmark the clinical NLP engine: load time, resident memory, extraction speed, and extraction time as a
share of transcription time for the same audio (target <= 0.05).

    python bench/nlp.py                       # dev.jsonl text + one synthesized encounter through whisper
    python bench/nlp.py --no-audio --json     # text only, machine-readable
    python bench/nlp.py --audio-ids acibench-D2N053,acibench-D2N083

Audio comes from ../shared/eval/make_audio.sh (espeak-ng + sox) and is transcribed with the project's
`transcription.engine.SpeechEngine` (tiny.en, CPU, as configured by default). Nothing here logs text.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from nlp.engine import ClinicalNlp  # noqa: E402
from nlp.evaluation import read_records, record_passages  # noqa: E402
from nlp.types import Passage  # noqa: E402
from nlp.vocabulary import medication_hotwords  # noqa: E402

EVAL = REPO.parent / "shared" / "eval"


def _rss_mb() -> float:
    """Resident memory now (Linux /proc), else the peak so far."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _words(passages: list[Passage]) -> int:
    return sum(len(p.text.split()) for p in passages)


def bench_text(engine: ClinicalNlp, records: list[dict[str, Any]], repeat: int) -> dict[str, float]:
    docs = [record_passages(r) for r in records]
    words = sum(_words(d) for d in docs)
    engine.extract(docs[0])  # warm-up
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for d in docs:
            engine.extract(d)
        best = min(best, time.perf_counter() - t0)
    return {"encounters": len(docs), "words": words, "seconds": best, "ms_per_1000_words": 1000 * best / words * 1000}


def bench_audio(engine: ClinicalNlp, records: list[dict[str, Any]], out_dir: Path) -> dict[str, float | str]:
    from transcription.engine import EngineConfig, SpeechEngine

    src = out_dir / "records.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    subprocess.run(
        ["bash", str(EVAL / "make_audio.sh"), "-o", str(out_dir), str(src)],
        check=True,
        capture_output=True,
    )
    speech = SpeechEngine(EngineConfig())
    hotwords = medication_hotwords(100)
    audio_s = transcribe_s = extract_s = 0.0
    words = 0
    for r in records:
        wav = out_dir / f"{r['id']}.wav"
        t0 = time.perf_counter()
        transcript = speech.transcribe(wav, hotwords=hotwords)
        transcribe_s += time.perf_counter() - t0
        audio_s += transcript.duration_ms / 1000
        passages = [Passage(str(s.index), s.text, s.speaker) for s in transcript.segments]
        words += _words(passages)
        engine.extract(passages)  # warm-up on this text, then time a second run
        t0 = time.perf_counter()
        engine.extract(passages)
        extract_s += time.perf_counter() - t0
    return {
        "encounters": len(records),
        "audio_seconds": audio_s,
        "transcript_words": words,
        "transcribe_seconds": transcribe_s,
        "extract_seconds": extract_s,
        "transcribe_ms_per_1000_words": 1e6 * transcribe_s / max(words, 1),
        "extract_ms_per_1000_words": 1e6 * extract_s / max(words, 1),
        "extract_to_transcribe_ratio": extract_s / transcribe_s if transcribe_s else float("nan"),
        "model": speech.info.model_name,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=Path, default=EVAL / "dev.jsonl")
    ap.add_argument("--repeat", type=int, default=3, help="text runs; the fastest counts")
    ap.add_argument("--no-audio", action="store_true", help="skip synthesis and transcription")
    ap.add_argument("--audio-ids", default="", help="comma-separated record ids (default: the shortest one)")
    ap.add_argument("--cache-dir", type=Path, default=None)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    rss0 = _rss_mb()
    t0 = time.perf_counter()
    engine = ClinicalNlp.load(args.cache_dir)
    load_s = time.perf_counter() - t0
    rss_loaded = _rss_mb()
    records = read_records(args.records)
    result: dict[str, Any] = {
        "load_seconds": load_s,
        "rss_before_load_mb": rss0,
        "rss_after_load_mb": rss_loaded,
        "text": bench_text(engine, records, args.repeat),
    }
    result["rss_after_extraction_mb"] = _rss_mb()
    if not args.no_audio:
        ids = [i for i in args.audio_ids.split(",") if i]
        chosen = [r for r in records if r["id"] in ids] if ids else [min(records, key=lambda r: len(str(r)))]
        with tempfile.TemporaryDirectory(prefix="ambient-bench-") as tmp:
            result["audio"] = bench_audio(engine, chosen, Path(tmp))
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    t = result["text"]
    print(
        f"load: {load_s:.2f} s; RSS {rss0:.0f} MB before, {rss_loaded:.0f} MB after load "
        f"(+{rss_loaded - rss0:.0f} MB), {result['rss_after_extraction_mb']:.0f} MB after extraction"
    )
    print(
        f"text: {t['encounters']} encounters, {t['words']} words in {t['seconds']:.2f} s "
        f"= {t['ms_per_1000_words']:.0f} ms per 1,000 words"
    )
    if "audio" in result:
        a = result["audio"]
        print(
            f"audio ({a['model']}): {a['encounters']} encounter(s), {a['audio_seconds']:.0f} s of speech, "
            f"{a['transcript_words']} words; transcription {a['transcribe_seconds']:.1f} s "
            f"({a['transcribe_ms_per_1000_words']:.0f} ms/1,000 words), extraction {a['extract_seconds']:.3f} s "
            f"({a['extract_ms_per_1000_words']:.0f} ms/1,000 words); ratio {a['extract_to_transcribe_ratio']:.4f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
