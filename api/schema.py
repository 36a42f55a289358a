"""The schema and its hardening: limits on depth, tokens, aliases and cost, parse/validation caches,
coded parse/validation errors, masked unexpected errors, and outside development neither
introspection nor "Did you mean …?" suggestions (they spell out the schema)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import strawberry
from graphql import ASTValidationRule, DocumentNode, GraphQLError, parse, validate
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import MaskErrors, SchemaExtension
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.types import ExecutionContext

from api.errors import should_mask
from api.limits import QueryLimits, QueryLimitsRule, limit_errors, limits_rule
from api.mutation import Mutation
from api.policy import assert_every_field_guarded
from api.query import Query
from api.subscription import Subscription
from core.settings import ApiSettings

PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
# What strawberry's own validate_document adds to the rules.
_STRAWBERRY_RULES: tuple[type[ASTValidationRule], ...] = (MaybeNullValidationRule, OneOfInputValidationRule)


class Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Expected errors (coded, validation) are the client's business; unexpected ones are logged by
        `should_mask` with their type only, never with variables or data."""


class _QuietExecutor(StrawberryGraphQLCoreExecutionContext):
    """Variable coercion without suggestions ("Did you mean 'givenName'?" names input fields)."""

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> Any:
        kwargs["hide_suggestions"] = True
        return super().build(*args, **kwargs)


def _with_code(errors: Iterable[GraphQLError], code: str) -> None:
    """Give each error without a code this one (the limit rules set their own)."""
    for error in errors:
        if not (error.extensions or {}).get("code"):
            error.extensions = {**(error.extensions or {}), "code": code}


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
    """Parse and validate (with the token, depth, alias and cost limits) each distinct query text once.

    Why not strawberry's ParserCache + ValidationCache: the validation cache is keyed by (document,
    rules), rule classes made per request never repeat that key, and hashing a document walks its whole
    AST. Here the rules are built once per schema and the key is the query text. Only documents without
    errors are cached; a rejected query is parsed and checked again each time (it gets no answer anyway),
    which is why the limits (api/limits.py, linear in the text) run first, before the full validation.

    One hook does both steps: strawberry skips its own parse when a document is set, and its own
    validation when `pre_execution_errors` is set (to the errors found, or [] for a valid document).
    A text that does not parse is left to strawberry's parse, which reports the syntax error; the hook
    gives that error its code once strawberry is done.
    """

    def __init__(
        self,
        cache: DocumentCache,
        limits: type[QueryLimitsRule],
        rules: tuple[type[ASTValidationRule], ...],
        max_tokens: int,
        *,
        suggestions: bool,
    ) -> None:
        self.cache = cache
        self.limits = limits
        self.rules = rules
        self.max_tokens = max_tokens
        self.suggestions = suggestions

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
        if context.graphql_document is None:
            _with_code(context.pre_execution_errors or (), PARSE_FAILED)

    def _check(self, context: ExecutionContext, query: str) -> None:
        context.parse_options["max_tokens"] = self.max_tokens
        try:
            document = parse(query, **context.parse_options)
        except GraphQLError:
            return  # strawberry parses again and answers with the syntax error
        schema = context.schema._schema
        # The limits first, alone: a document over them is refused without the (dearer) full validation.
        errors = limit_errors(self.limits, schema, document) or validate(
            schema,
            document,
            (*context.validation_rules, *_STRAWBERRY_RULES, *self.rules),
            hide_suggestions=not self.suggestions,
        )
        _with_code(errors, VALIDATION_FAILED)
        context.graphql_document = document
        context.pre_execution_errors = errors
        if not errors:
            self.cache.put(query, document)


def build_schema(api: ApiSettings, *, introspection: bool) -> Schema:
    """`introspection` is on in development only; so are suggestions, which reveal as much."""
    # The rule classes are made once here (see CheckedDocuments), not once per request.
    limits = QueryLimits(
        max_depth=api.max_query_depth,
        max_aliases=api.max_aliases,
        max_cost=api.max_query_cost,
        default_page_size=api.default_page_size,
        max_page_size=api.max_page_size,
    )
    limits_check = limits_rule(limits)
    rules: list[type[ASTValidationRule]] = []
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    documents = DocumentCache(maxsize=1024)
    # Factories: a fresh extension per request (the document cache is shared by design).
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: CheckedDocuments(
            documents, limits_check, tuple(rules), api.max_query_tokens, suggestions=introspection
        ),
        lambda: _MaskErrors(should_mask_error=should_mask),
    ]
    schema = Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        execution_context_class=None if introspection else _QuietExecutor,
    )
    assert_every_field_guarded(schema)
    return schema


def printable_schema() -> str:
    """The SDL committed as schema.graphql (same types whatever the settings)."""
    return build_schema(ApiSettings(), introspection=True).as_str() + "\n"
