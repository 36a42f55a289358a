"""The schema and its hardening: limits on depth, tokens and aliases, parse/validation caches,
masked unexpected errors, and no introspection outside development."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    DisableIntrospection,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.types import ExecutionContext

from api.errors import should_mask
from api.mutation import Mutation
from api.policy import assert_every_field_guarded
from api.query import Query
from api.subscription import Subscription
from core.settings import ApiSettings


class Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Expected errors (coded, validation) are the client's business; unexpected ones are logged by
        `should_mask` with their type only, never with variables or data."""


def build_schema(api: ApiSettings, *, introspection: bool) -> Schema:
    # Factories: a fresh extension per request (the parse/validation caches are shared by design).
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: MaxTokensLimiter(max_token_count=api.max_query_tokens),
        lambda: QueryDepthLimiter(max_depth=api.max_query_depth),
        lambda: MaxAliasesLimiter(max_alias_count=api.max_aliases),
        lambda: ParserCache(maxsize=1024),
        lambda: ValidationCache(maxsize=1024),
        lambda: MaskErrors(should_mask_error=should_mask),
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    schema = Schema(query=Query, mutation=Mutation, subscription=Subscription, extensions=extensions)
    assert_every_field_guarded(schema)
    return schema


def printable_schema() -> str:
    """The SDL committed as schema.graphql (same types whatever the settings)."""
    return build_schema(ApiSettings(), introspection=True).as_str() + "\n"
