"""The GraphQL endpoint: builds the context (authentication happens here) and, when an operation is
done, closes its session and commits its audit events before the response is sent."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import timedelta
from typing import Any

from cross_web import AsyncHTTPRequestAdapter
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http.typevars import Context as _ContextVar  # noqa: F401  (documents the generic)
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ConnectionInitMessage
from strawberry.types.unset import UNSET

from api.context import Context
from api.errors import unauthenticated
from api.multipart import INVALID_MULTIPART, MultipartError, json_field, place_files
from api.policy import AuthorizationTiming
from notes.access import Access
from notes.authentication import AuthenticationFailed
from notes.bootstrap import Services
from notes.events.hub import EventHub

log = logging.getLogger(__name__)


def _bearer(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class AuthenticatingTransportWS(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws where connection_init must carry {"Authorization": "Bearer <token>"}: a bad or
    expired token closes the socket with 4401 (Unauthorized), and the socket closes when the token expires."""

    _expiry: asyncio.Task[None] | None = None

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        if self.connection_init_received or self.connection_timed_out:
            await super().handle_connection_init(message)  # the protocol's own errors for these
            return
        payload = message.get("payload") or {}
        view = self.view
        assert isinstance(view, GraphQLView)
        if not isinstance(payload, dict) or not await view.authenticate_socket(self.context, payload):
            self.connection_init_received = True
            if self.connection_init_timeout_task:
                self.connection_init_timeout_task.cancel()
            await self.websocket.close(code=4401, reason="Unauthorized")
            return
        await super().handle_connection_init(message)
        self._expiry = asyncio.create_task(self._close_at_expiry(self.context.token_expires_at))

    async def _close_at_expiry(self, expires_at: float) -> None:
        await asyncio.sleep(max(0.0, expires_at - time.time()))
        with contextlib.suppress(Exception):
            await self.websocket.close(code=4401, reason="Token expired")

    async def shutdown(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        await super().shutdown()


class GraphQLView(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = AuthenticatingTransportWS

    def __init__(self, services: Services, hub: EventHub | None = None, **kwargs: Any) -> None:
        development = services.settings.development
        super().__init__(
            kwargs.pop("schema"),
            graphql_ide="graphiql" if development else None,
            allow_queries_via_get=False,
            multipart_uploads_enabled=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            max_subscriptions_per_connection=services.settings.api.max_subscriptions_per_connection,
            connection_init_wait_timeout=timedelta(seconds=10),
            **kwargs,
        )
        self.services = services
        self.hub = hub
        # Outside development a POST without a principal is refused before its body is read: whether
        # its fields exist or its text parses, it learns nothing about the schema (no field is public).
        self.anonymous_refused = not development
        self.timing = AuthorizationTiming() if services.settings.bench_timings else None
        self._requests = 0

    async def authenticate_socket(self, context: Context, payload: dict[str, object]) -> bool:
        header = payload.get("Authorization", payload.get("authorization"))
        token = _bearer(header) if isinstance(header, str) else None
        if token is None:
            return False
        try:
            principal, claims = await self.services.authenticator.authenticate(token)
        except AuthenticationFailed:
            return False
        context.access = Access(principal=principal, authorizer=self.services.authorizer, request_id=context.request_id)
        context.token_expires_at = claims.expires_at
        return True

    async def context_for(self, request_id: str, authorization: str | None) -> Context:
        services = self.services
        principal, auth_error = None, None
        token = _bearer(authorization)
        if authorization and token is None:
            auth_error = "expected 'Authorization: Bearer <token>'"
        elif token is not None:
            try:
                principal, _claims = await services.authenticator.authenticate(token)
            except AuthenticationFailed as exc:
                auth_error = str(exc)
        access = Access(principal=principal, authorizer=services.authorizer, request_id=request_id)
        return Context(
            services=services,
            request_id=request_id,
            access=access,
            hub=self.hub,
            auth_error=auth_error,
            authorization_timing=self.timing,
        )

    async def get_context(self, request: Request | WebSocket, response: Any = None) -> Context:
        request_id = request.scope.get("state", {}).get("request_id", "")
        context = await self.context_for(request_id, request.headers.get("authorization"))
        request.scope.setdefault("state", {})["graphql_context"] = context
        return context

    async def parse_multipart(self, request: AsyncHTTPRequestAdapter) -> dict[str, str]:
        try:
            form = await request.get_form_data()
        except (MultiPartException, StarletteHTTPException, ValueError) as exc:
            raise MultipartError("the multipart body could not be read") from exc
        operations = json_field(form.form.get("operations"), "operations")
        files_map = json_field(form.form.get("map", "{}"), "map")
        return place_files(operations, files_map, form.files)

    async def run(  # type: ignore[override]
        self, request: Request | WebSocket, context: Any = UNSET, root_value: Any = UNSET
    ) -> Response:
        if isinstance(request, WebSocket):
            return await super().run(request, context, root_value)  # type: ignore[return-value]
        try:
            if context is UNSET:
                context = await self.get_context(request)
            if self.anonymous_refused and request.method == "POST" and context.access.principal is None:
                response = self._refuse_anonymous(context)
            else:
                response = await super().run(request, context, root_value)
        except MultipartError as exc:
            response = JSONResponse(
                {"errors": [{"message": str(exc), "extensions": {"code": INVALID_MULTIPART}}]}, status_code=400
            )
        finally:
            finished = await self._finish(request)
        if not finished:
            return JSONResponse(
                {"errors": [{"message": "Unexpected error.", "extensions": {"code": "INTERNAL"}}]},
                status_code=500,
            )
        if self.timing is not None:
            self._requests += 1
            response.headers["x-ambient-bench-timings"] = (
                f"authz_ns={self.timing.ns};checks={self.timing.checks};requests={self._requests};"
                f"cpu_ns={time.process_time_ns()}"
            )
        return response

    def _refuse_anonymous(self, context: Context) -> Response:
        """Before the body is read: the same answer whatever the query, audited as one denial."""
        context.access.record("request", "graphql", None, "denied")
        return JSONResponse({"errors": [unauthenticated(context.auth_error).formatted]})

    async def _finish(self, request: Request) -> bool:
        context: Context | None = request.scope.get("state", {}).pop("graphql_context", None)
        if context is None:
            return True
        try:
            await context.finish()
        except Exception as exc:  # no audit, no answer: the data must not leave unaudited
            log.error("request %s: audit commit failed (%s)", context.request_id, type(exc).__name__)
            return False
        return True
