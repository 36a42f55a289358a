"""Text PostgreSQL cannot store, refused where arguments enter a resolver, with INVALID_INPUT naming the field.

NUL is refused by every text and JSON column, and an unpaired surrogate (JSON allows "\\ud800") cannot be
encoded as UTF-8: either reached the database as an unexpected error. `InputTextGuard` runs inside the
field permission extension (api/policy.py), which every field with a resolver has, so no argument
skips it. A mutation answers with its payload's typed error (`code: INVALID_INPUT`, `field` relative to
`input`, as the domain errors name fields); any other field with a top-level error
(`extensions.code` INVALID_INPUT, `extensions.field` the argument path).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from enum import Enum
from typing import Any

from graphql import GraphQLError
from strawberry.types.arguments import StrawberryArgument
from strawberry.types.base import StrawberryList, StrawberryOptional, has_object_definition
from strawberry.types.enum import StrawberryEnumDefinition
from strawberry.types.field import StrawberryField
from strawberry.utils.str_converters import to_camel_case

INVALID_INPUT = "INVALID_INPUT"
_MESSAGE = "{field} contains a character that cannot be stored (NUL or an unpaired surrogate)"


def unstorable(text: str) -> bool:
    if "\x00" in text:
        return True
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _bad_paths(value: object, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    if isinstance(value, str):
        if unstorable(value):
            yield path
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _bad_paths(item, (*path, str(index)))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _bad_paths(key, path)
            yield from _bad_paths(item, (*path, str(key)))
    elif has_object_definition(value) and value.__strawberry_definition__.is_input:
        for field in value.__strawberry_definition__.fields:
            yield from _bad_paths(getattr(value, field.python_name, None), (*path, _graphql_name(field)))


def _graphql_name(item: StrawberryField | StrawberryArgument) -> str:
    return item.graphql_name or to_camel_case(item.python_name)  # the schema's default name converter


def first_bad_path(arguments: dict[str, Any], names: dict[str, str]) -> tuple[str, ...] | None:
    """The GraphQL path of the first argument value that cannot be stored, if any."""
    for name, value in arguments.items():
        for path in _bad_paths(value, (names.get(name, name),)):
            return path
    return None


def _payload_factory(field: StrawberryField) -> Callable[[str, str], object] | None:
    """For a mutation whose payload has `errors: [XError!]!` with an INVALID_INPUT code (and every other
    field optional or defaulted): a function building that payload. None for anything else."""
    payload = field.type
    if not has_object_definition(payload) or not isinstance(payload, type):
        return None
    fields = payload.__strawberry_definition__.fields
    errors = next((item for item in fields if item.python_name == "errors"), None)
    if errors is None or not isinstance(errors.type, StrawberryList):
        return None
    error_type = errors.type.of_type
    if not has_object_definition(error_type) or not callable(error_type):
        return None
    code = next((item for item in error_type.__strawberry_definition__.fields if item.python_name == "code"), None)
    enum = code.type if code is not None else None
    if not isinstance(enum, StrawberryEnumDefinition) or INVALID_INPUT not in enum.wrapped_cls.__members__:
        return None
    others = [item for item in fields if item is not errors]
    if any(
        not isinstance(item.type, StrawberryOptional)
        and item.default is dataclasses.MISSING
        and item.default_factory is dataclasses.MISSING
        for item in others
    ):
        return None
    invalid: Enum = enum.wrapped_cls[INVALID_INPUT]
    empty = {item.python_name: None for item in others if isinstance(item.type, StrawberryOptional)}
    make_payload: Callable[..., object] = payload
    make_error: Callable[..., object] = error_type

    def build(message: str, at: str) -> object:
        return make_payload(**empty, errors=[make_error(code=invalid, message=message, field=at)])

    return build


class InputTextGuard:
    """Bound to one field when the schema is built; `refusal` is None when every argument is storable."""

    def __init__(self) -> None:
        self.field: StrawberryField | None = None
        self.names: dict[str, str] = {}
        self.payload: Callable[[str, str], object] | None = None

    def bind(self, field: StrawberryField) -> None:
        if self.field is not None and self.field is not field:
            raise RuntimeError(f"one extension instance per field: {field.python_name} shares one")
        self.field = field
        self.names = {argument.python_name: _graphql_name(argument) for argument in field.arguments}
        self.payload = _payload_factory(field) if field.arguments else None

    def refusal(self, arguments: dict[str, Any]) -> object | None:
        """The payload to answer with; raises the top-level error when the field has no such payload."""
        if not arguments:
            return None
        path = first_bad_path(arguments, self.names)
        if path is None:
            return None
        if self.payload is not None:
            within_input = path[1:] if path[0] == "input" and len(path) > 1 else path
            at = ".".join(within_input)
            return self.payload(_MESSAGE.format(field=at), at)
        at = ".".join(path)
        raise GraphQLError(_MESSAGE.format(field=at), extensions={"code": INVALID_INPUT, "field": at})
