"""A real HTTP server speaking the OpenAI chat-completions protocol, answering from a script.

It runs uvicorn in a thread on 127.0.0.1 (a real socket, real HTTP), records every request body, and
answers with whatever the test's responder returns: a status code, a JSON answer, a delay, a stream.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route


@dataclass
class Reply:
    status: int = 200
    content: str | None = None  # the assistant message text
    delay_s: float = 0.0
    finish_reason: str = "stop"
    stream_chunks: list[str] | None = None
    chunk_delay_s: float = 0.01  # between stream chunks; long enough to stall a client on purpose
    headers: dict[str, str] = field(default_factory=dict)


Responder = Callable[[dict[str, Any]], Reply]


def completion_body(content: str, finish_reason: str = "stop", model: str = "scripted") -> dict[str, Any]:
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


class ScriptedOpenAI:
    def __init__(self, responder: Responder | None = None) -> None:
        self.responder: Responder = responder or (lambda body: Reply(content='{"sentences": []}'))
        self.requests: list[dict[str, Any]] = []
        app = Starlette(routes=[Route("/v1/chat/completions", self._chat, methods=["POST"])])
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("scripted server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()

    async def _chat(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        reply = self.responder(body)
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        if reply.status != 200:
            return JSONResponse({"error": {"message": "scripted failure", "type": "server_error"}},
                                status_code=reply.status, headers=reply.headers)  # fmt: skip
        if body.get("stream"):
            return StreamingResponse(self._stream(reply), media_type="text/event-stream")
        return JSONResponse(completion_body(reply.content or "", reply.finish_reason))

    async def _stream(self, reply: Reply) -> Any:
        for i, piece in enumerate(reply.stream_chunks or [reply.content or ""]):
            chunk = {
                "id": "chatcmpl-scripted",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": "scripted",
                "choices": [{"index": 0, "delta": {"role": "assistant", "content": piece} if i == 0 else
                             {"content": piece}, "finish_reason": None}],
            }  # fmt: skip
            yield f"data: {json.dumps(chunk)}\n\n"
            await asyncio.sleep(reply.chunk_delay_s)
        yield "data: [DONE]\n\n"


def serve(responder: Responder | None = None) -> Iterator[ScriptedOpenAI]:
    server = ScriptedOpenAI(responder)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# ------------------------------------------------------------------------------------------ prompt helpers

_LINE = re.compile(r'^\{"id": "(?P<id>[SFC]\d+)".*$', re.M)


def user_prompt(body: dict[str, Any]) -> str:
    return str(next(m["content"] for m in body["messages"] if m["role"] == "user"))


def section_of(body: dict[str, Any]) -> str:
    m = re.search(r"Write the ([A-Z_ ]+) section", user_prompt(body))
    return m.group(1).strip() if m else ""


def prompt_id(body: dict[str, Any], ref: str) -> str:
    """'S:lisinopril' -> the prompt id of the first transcript line containing 'lisinopril'; 'F:…' for a
    fact, 'C:…' for a chart line; anything else is passed through (to script invented ids)."""
    if len(ref) < 3 or ref[1] != ":" or ref[0] not in "SFC":
        return ref
    kind, needle = ref[0], ref[2:].lower()
    for m in _LINE.finditer(user_prompt(body)):
        line = m.group(0)
        if (
            m["id"].startswith(kind)
            and needle in json.loads(line).get("text", json.loads(line).get("fact", "")).lower()
        ):
            return m["id"]
    raise AssertionError(f"no {kind} line containing {needle!r} in the prompt")


def by_section(script: dict[str, list[tuple[str, list[str]]]]) -> Responder:
    """Answer each section's request with scripted sentences, evidence given as 'S:snippet' references."""

    def respond(body: dict[str, Any]) -> Reply:
        sentences = [
            {"text": text, "evidence": [prompt_id(body, ref) for ref in refs]}
            for text, refs in script.get(section_of(body), [])
        ]
        return Reply(content=json.dumps({"sentences": sentences}))

    return respond
