"""Top-level GraphQL errors with a machine-readable `extensions.code`, and the masking rule for the rest."""

from __future__ import annotations

import logging

from graphql import GraphQLError

log = logging.getLogger(__name__)


def unauthenticated(reason: str | None = None) -> GraphQLError:
    message = "Authentication required." if reason is None else f"Authentication failed: {reason}."
    return GraphQLError(message, extensions={"code": "UNAUTHENTICATED"})


def forbidden() -> GraphQLError:
    return GraphQLError("You are not allowed to do this.", extensions={"code": "FORBIDDEN"})


def bad_request(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "BAD_REQUEST"})


def should_mask(error: GraphQLError) -> bool:
    """Hide anything that is not one of our coded errors or a GraphQL validation error."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return False
    coded = getattr(original, "extensions", None)
    if isinstance(coded, dict) and "code" in coded:
        return False
    log.error("unexpected error at %s: %s", ".".join(str(p) for p in error.path or ()), type(original).__name__)
    return True
