"""The GraphQL multipart request (files sent beside `operations` and placed by `map`), checked before
strawberry places the files: a malformed body, `operations` or `map` is a 400 INVALID_MULTIPART.

strawberry's own placement trusts the map: a path through a missing key, into a string or past a list
raised TypeError/AttributeError/IndexError, a 500. Here every path must run through the variables to an
existing container and end at a null placeholder (or a key not sent), as the multipart spec says.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.datastructures import UploadFile
from strawberry.file_uploads.utils import replace_placeholders_with_files

INVALID_MULTIPART = "INVALID_MULTIPART"


class MultipartError(Exception):
    """The message names the part at fault, never its content."""


def json_field(raw: object, name: str) -> object:
    if not isinstance(raw, str | bytes):
        raise MultipartError(f"`{name}` must be a form field holding JSON")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:  # also undecodable bytes and absurd nesting
        raise MultipartError(f"`{name}` is not valid JSON") from exc


def place_files(operations: object, files_map: object, parts: Mapping[str, object]) -> dict[str, Any]:
    if not isinstance(operations, dict):
        raise MultipartError("`operations` must be a JSON object (batched operations are not accepted)")
    if not isinstance(files_map, dict):
        raise MultipartError("`map` must be a JSON object of part name → list of paths")
    for name, paths in files_map.items():
        if not isinstance(parts.get(name), UploadFile):
            raise MultipartError("`map` names a part that is not an uploaded file")
        if not isinstance(paths, list) or not paths or not all(isinstance(path, str) for path in paths):
            raise MultipartError("each `map` entry must be a non-empty list of paths")
        for path in paths:
            _check_placeholder(operations, path)
    try:
        return replace_placeholders_with_files(operations, files_map, parts)  # deep-copies operations
    except RecursionError as exc:
        raise MultipartError("`operations` nests too deeply") from exc


def _check_placeholder(operations: dict[str, Any], path: str) -> None:
    keys = path.split(".")
    if len(keys) < 2 or keys[0] != "variables":
        raise MultipartError("`map` paths must point into the variables, e.g. variables.input.file")
    target: object = operations
    for key in keys[:-1]:
        target = _step(target, key)
    last = keys[-1]
    if isinstance(target, dict):
        if target.get(last) is not None:
            raise MultipartError("a `map` path must end at a null placeholder")
    elif isinstance(target, list):
        if _index(target, last) is None or target[int(last)] is not None:
            raise MultipartError("a `map` path must end at a null placeholder")
    else:
        raise MultipartError("a `map` path runs through a value that holds no fields")


def _step(target: object, key: str) -> object:
    if isinstance(target, dict) and isinstance(target.get(key), dict | list):
        return target[key]
    if isinstance(target, list) and (index := _index(target, key)) is not None:
        return target[index]
    raise MultipartError("a `map` path names a variable that was not sent")


def _index(items: list[Any], key: str) -> int | None:
    if not (key.isascii() and key.isdigit() and len(key) <= 9):
        return None
    return int(key) if int(key) < len(items) else None
