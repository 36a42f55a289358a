"""Every root field and every resolver declares who may run it: `policy(resource, action)` or `PUBLIC`.

The check runs before the resolver: no principal → UNAUTHENTICATED, Casbin says no → FORBIDDEN (and
the denial is audited). Row-level visibility is the repositories' job, after this.
`assert_every_field_guarded` walks the built schema; the app refuses to start if a field is unguarded.
Being on every field with a resolver, the same extension checks the arguments for text the database
cannot store (api/input_text.py).
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.types import Info
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField

from api.errors import forbidden, unauthenticated
from api.input_text import InputTextGuard


async def _result(value: Any) -> Any:
    """Resolvers return awaitables; subscription resolvers return async generators, passed on as they are."""
    return await value if inspect.isawaitable(value) else value


@dataclass
class AuthorizationTiming:
    """Opt-in (AMBIENT_BENCH_TIMINGS=1, for bench/api.py): time spent deciding field access."""

    checks: int = 0
    ns: int = 0


class PolicyExtension(FieldExtension):
    """Decides access, then (for an allowed caller only) refuses arguments the database cannot store."""

    def __init__(self, resource: str, action: str) -> None:
        self.resource = resource
        self.action = action
        self.text = InputTextGuard()

    def apply(self, field: StrawberryField) -> None:
        self.text.bind(field)

    def _check(self, info: Info, kwargs: dict[str, Any]) -> None:
        context = info.context
        timing: AuthorizationTiming | None = context.authorization_timing
        if timing is None:
            self._decide(context, kwargs)
            return
        start = time.perf_counter_ns()
        try:
            self._decide(context, kwargs)
        finally:
            timing.ns += time.perf_counter_ns() - start
            timing.checks += 1

    def _decide(self, context: Any, kwargs: dict[str, Any]) -> None:
        access = context.access
        if access.principal is None:
            access.record(self.action, self.resource, kwargs.get("id"), "denied")
            raise unauthenticated(context.auth_error)
        if not access.can(self.resource, self.action):
            access.record(self.action, self.resource, kwargs.get("id"), "denied")
            raise forbidden()

    def resolve(self, next_: Callable[..., Any], source: Any, info: Info, **kwargs: Any) -> Any:
        self._check(info, kwargs)
        refusal = self.text.refusal(kwargs)
        return refusal if refusal is not None else next_(source, info, **kwargs)

    async def resolve_async(self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info, **kwargs: Any) -> Any:
        self._check(info, kwargs)
        refusal = self.text.refusal(kwargs)
        if refusal is not None:
            return refusal
        value = next_(source, info, **kwargs)
        return await value if inspect.isawaitable(value) else value


class PublicExtension(FieldExtension):
    """The explicit marker for the rare field anyone may call (its arguments are checked all the same)."""

    def __init__(self) -> None:
        self.text = InputTextGuard()

    def apply(self, field: StrawberryField) -> None:
        self.text.bind(field)

    def resolve(self, next_: Callable[..., Any], source: Any, info: Info, **kwargs: Any) -> Any:
        refusal = self.text.refusal(kwargs)
        return refusal if refusal is not None else next_(source, info, **kwargs)

    async def resolve_async(self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info, **kwargs: Any) -> Any:
        refusal = self.text.refusal(kwargs)
        return refusal if refusal is not None else await _result(next_(source, info, **kwargs))


def policy(resource: str, action: str) -> PolicyExtension:
    return PolicyExtension(resource, action)


def public() -> PublicExtension:
    return PublicExtension()


class UnguardedFieldError(RuntimeError):
    pass


def unguarded_fields(schema: strawberry.Schema) -> list[str]:
    """`Type.field` for each root field or resolver field that declares neither a policy nor PUBLIC."""
    roots = {
        root.__strawberry_definition__.name  # type: ignore[attr-defined]
        for root in (schema.query, schema.mutation, schema.subscription)
        if root is not None
    }
    missing = []
    for type_definition in schema.schema_converter.type_map.values():
        definition = type_definition.definition
        if not isinstance(definition, StrawberryObjectDefinition):
            continue
        for field in definition.fields:
            assert isinstance(field, StrawberryField)
            needs_guard = definition.name in roots or field.base_resolver is not None
            guarded = any(isinstance(ext, PolicyExtension | PublicExtension) for ext in field.extensions)
            if needs_guard and not guarded:
                missing.append(f"{definition.name}.{schema.config.name_converter.get_graphql_name(field)}")
    return sorted(missing)


def assert_every_field_guarded(schema: strawberry.Schema) -> None:
    missing = unguarded_fields(schema)
    if missing:
        raise UnguardedFieldError("fields without an authorization policy: " + ", ".join(missing))
