"""The schema and its hardening: limits on depth, tokens and aliases, parse/validation caches,
masked unexpected errors, and no introspection outside development."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator

import strawberry
from graphql import ASTValidationRule, DocumentNode, GraphQLError, parse
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import MaskErrors, MaxAliasesLimiter, QueryDepthLimiter, SchemaExtension
from strawberry.schema.schema import validate_document
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


class _MaskErrors(MaskErrors):
    """strawberry's MaskErrors, minus a runtime Protocol isinstance check per request (~25 µs)."""

    def _process_result(self, result: object) -> None:
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = self._process_errors(errors)  # type: ignore[attr-defined]


class DocumentCache:
    """Query text → its parsed document, for texts that parsed and validated without error (LRU)."""

    def __init__(self, maxsize: int) -> None:
        self._maxsize = maxsize
        self._documents: OrderedDict[str, DocumentNode] = OrderedDict()

    def get(self, query: str) -> DocumentNode | None:
        document = self._documents.get(query)
        if document is not None:
            self._documents.move_to_end(query)
        return document

    def put(self, query: str, document: DocumentNode) -> None:
        self._documents[query] = document
        if len(self._documents) > self._maxsize:
            self._documents.popitem(last=False)


class CheckedDocuments(SchemaExtension):
    """Parse and validate (with the token, depth and alias limits) each distinct query text once.

    Why not strawberry's ParserCache + ValidationCache with the limiter extensions: the validation cache
    is keyed by (document, rules); QueryDepthLimiter and MaxAliasesLimiter create a new rule class per
    instance, and extensions are built per request, so that key never repeated (every request was
    validated again), and hashing a document walks its whole AST. Here the rules are built once per
    schema and the key is the query text. Only documents without errors are cached; a rejected query is
    parsed and validated again each time (it gets no answer anyway).

    One hook does both steps: strawberry skips its own parse when a document is set, and its own
    validation when `pre_execution_errors` is set (to the errors found, or [] for a valid document).
    A text that does not parse is left to strawberry's parse, which reports the syntax error.
    """

    def __init__(self, cache: DocumentCache, rules: tuple[type[ASTValidationRule], ...], max_tokens: int) -> None:
        self.cache = cache
        self.rules = rules
        self.max_tokens = max_tokens

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        query = context.query
        if query:
            document = self.cache.get(query)
            if document is not None:
                context.graphql_document = document
                context.pre_execution_errors = []
            else:
                self._check(context, query)
        yield

    def _check(self, context: ExecutionContext, query: str) -> None:
        context.parse_options["max_tokens"] = self.max_tokens
        try:
            document = parse(query, **context.parse_options)
        except GraphQLError:
            return  # strawberry parses again and answers with the syntax error
        errors = validate_document(context.schema._schema, document, (*context.validation_rules, *self.rules))
        context.graphql_document = document
        context.pre_execution_errors = errors
        if not errors:
            self.cache.put(query, document)


def build_schema(api: ApiSettings, *, introspection: bool) -> Schema:
    # The limiters' rule classes are made once here (see CheckedDocuments), not once per request.
    rules: list[type[ASTValidationRule]] = [
        *QueryDepthLimiter(max_depth=api.max_query_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=api.max_aliases).validation_rules,
    ]
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    documents = DocumentCache(maxsize=1024)
    # Factories: a fresh extension per request (the document cache is shared by design).
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: CheckedDocuments(documents, tuple(rules), api.max_query_tokens),
        lambda: _MaskErrors(should_mask_error=should_mask),
    ]
    schema = Schema(query=Query, mutation=Mutation, subscription=Subscription, extensions=extensions)
    assert_every_field_guarded(schema)
    return schema


def printable_schema() -> str:
    """The SDL committed as schema.graphql (same types whatever the settings)."""
    return build_schema(ApiSettings(), introspection=True).as_str() + "\n"
