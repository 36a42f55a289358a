"""The GraphQL endpoint: builds the context (authentication happens here) and, when an operation is
done, closes its session and commits its audit events before the response is sent."""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http.typevars import Context as _ContextVar  # noqa: F401  (documents the generic)
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET

from api.context import Context
from notes.access import Access
from notes.authentication import AuthenticationFailed
from notes.bootstrap import Services
from notes.session import RequestSession

log = logging.getLogger(__name__)


def _bearer(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class GraphQLView(GraphQL[Context, None]):
    def __init__(self, services: Services, **kwargs: Any) -> None:
        development = services.settings.development
        super().__init__(
            kwargs.pop("schema"),
            graphql_ide="graphiql" if development else None,
            allow_queries_via_get=False,
            multipart_uploads_enabled=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            **kwargs,
        )
        self.services = services

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
            session=RequestSession(services.database),
            auth_error=auth_error,
        )

    async def get_context(self, request: Request | WebSocket, response: Any = None) -> Context:
        request_id = request.scope.get("state", {}).get("request_id", "")
        context = await self.context_for(request_id, request.headers.get("authorization"))
        request.scope.setdefault("state", {})["graphql_context"] = context
        return context

    async def run(  # type: ignore[override]
        self, request: Request | WebSocket, context: Any = UNSET, root_value: Any = UNSET
    ) -> Response:
        if isinstance(request, WebSocket):
            return await super().run(request, context, root_value)  # type: ignore[return-value]
        try:
            response = await super().run(request, context, root_value)
        finally:
            finished = await self._finish(request)
        if not finished:
            return JSONResponse(
                {"errors": [{"message": "Unexpected error.", "extensions": {"code": "INTERNAL"}}]},
                status_code=500,
            )
        return response

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
