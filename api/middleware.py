"""Pure-ASGI middleware: request ids, request body limits, and the CSRF guard for multipart uploads."""

from __future__ import annotations

import json
import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# A browser cannot send these cross-origin without a CORS preflight; a bearer token forces one too.
PREFLIGHT_HEADERS = (
    b"authorization",
    b"apollo-require-preflight",
    b"x-apollo-operation-name",
    b"graphql-require-preflight",
)
_SIMPLE_CONTENT_TYPES = (b"multipart/form-data", b"application/x-www-form-urlencoded", b"text/plain")
MULTIPART_OVERHEAD = 1024 * 1024  # form fields around the file


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return None


async def _send_json(send: Send, status: int, code: str, message: str, request_id: str | None = None) -> None:
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if request_id:
        headers.append((b"x-request-id", request_id.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = (_header(scope, b"x-request-id") or b"").decode("latin-1")
        request_id = incoming if _REQUEST_ID.match(incoming) else str(uuid.uuid4())
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        await self.app(scope, receive, send_with_id)


class _TooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """Refuses bodies over the limit (413): by Content-Length up front, and by counting as they stream."""

    def __init__(self, app: ASGIApp, *, max_request_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_request_bytes = max_request_bytes
        self.max_multipart_bytes = max_upload_bytes + MULTIPART_OVERHEAD

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        content_type = (_header(scope, b"content-type") or b"").lower()
        limit = self.max_multipart_bytes if content_type.startswith(b"multipart/") else self.max_request_bytes
        request_id = scope.get("state", {}).get("request_id")
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send_json(send, 413, "PAYLOAD_TOO_LARGE", "Request body too large.", request_id)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _send_json(send, 413, "PAYLOAD_TOO_LARGE", "Request body too large.", request_id)


class CsrfGuardMiddleware:
    """A POST a browser could send cross-site without a preflight (multipart, form, text) must carry a
    preflight-forcing header. Bearer tokens satisfy this; cookies are never used for authentication."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            content_type = (_header(scope, b"content-type") or b"").lower()
            if content_type.startswith(_SIMPLE_CONTENT_TYPES) and not any(
                _header(scope, name) for name in PREFLIGHT_HEADERS
            ):
                await _send_json(
                    send,
                    400,
                    "CSRF_REJECTED",
                    "Multipart requests need an Authorization header or Apollo-Require-Preflight.",
                    scope.get("state", {}).get("request_id"),
                )
                return
        await self.app(scope, receive, send)
