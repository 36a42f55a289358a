"""Bearer token → Principal, with a short cache so a busy client does not cost a query per request.

The cache holds a principal for a few seconds at most, and never past its token's expiry, so a removed
role or deactivated user stops working within that window (role changes also clear it immediately).
"""

from __future__ import annotations

import time
from collections import OrderedDict

from authz.principal import Principal
from authz.tokens import Claims, InvalidToken, TokenVerifier
from core.db import Database
from notes.identity.service import resolve_principal

_CACHE_SIZE = 10_000


class AuthenticationFailed(Exception):
    """Safe to show: says why in general terms, never which account."""


class Authenticator:
    def __init__(self, database: Database, verifier: TokenVerifier, *, cache_seconds: float = 5.0) -> None:
        self._database = database
        self._verifier = verifier
        self._cache_seconds = cache_seconds
        self._cache: OrderedDict[str, tuple[float, Principal, Claims]] = OrderedDict()

    def clear(self) -> None:
        self._cache.clear()

    async def authenticate(self, token: str) -> tuple[Principal, Claims]:
        now = time.monotonic()
        cached = self._cache.get(token)
        if cached is not None and cached[0] > now and cached[2].expires_at > time.time():
            return cached[1], cached[2]
        try:
            claims = await self._verifier.verify(token)
        except InvalidToken as exc:
            raise AuthenticationFailed(str(exc)) from exc
        async with self._database.session() as session:
            principal = await resolve_principal(session, claims)
        if principal is None:
            raise AuthenticationFailed("no active account with a role matches this token")
        self._cache[token] = (now + self._cache_seconds, principal, claims)
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return principal, claims
