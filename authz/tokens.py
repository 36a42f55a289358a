"""Bearer tokens. Development: HS256 signed with a secret generated into $AMBIENT_HOME.
Production: tokens from an OIDC issuer, verified against its JWKS (issuer and audience checked).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Protocol

import jwt

DEV_ISSUER = "ambient-dev"
DEV_AUDIENCE = "ambient"


class InvalidToken(Exception):
    """The token is missing, malformed, expired, or not ours. The message is safe to show."""


@dataclass(frozen=True, slots=True)
class Claims:
    subject: str
    email: str | None
    organization: str | None  # an organization slug the client asks to act in
    expires_at: float
    email_verified: bool  # only a verified address may link a token to a staff account


class TokenVerifier(Protocol):
    async def verify(self, token: str) -> Claims: ...


def _claims(payload: dict[str, Any], email_claim: str, *, email_verified: bool | None = None) -> Claims:
    subject = payload.get("sub")
    if not isinstance(subject, str) or not subject:
        raise InvalidToken("token has no subject")
    email = payload.get(email_claim)
    organization = payload.get("org")
    return Claims(
        subject=subject,
        email=email.lower() if isinstance(email, str) else None,
        organization=organization if isinstance(organization, str) else None,
        expires_at=float(payload["exp"]),
        email_verified=payload.get("email_verified") is True if email_verified is None else email_verified,
    )


class DevTokens:
    def __init__(self, secret: bytes, leeway_s: int = 30) -> None:
        self._secret = secret
        self._leeway = leeway_s

    def issue(self, email: str, *, ttl_minutes: int, organization: str | None = None) -> str:
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": DEV_ISSUER,
            "aud": DEV_AUDIENCE,
            "sub": email.lower(),
            "email": email.lower(),
            "iat": now,
            "exp": now + ttl_minutes * 60,
        }
        if organization:
            payload["org"] = organization
        return jwt.encode(payload, self._secret, algorithm="HS256")

    async def verify(self, token: str) -> Claims:
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                audience=DEV_AUDIENCE,
                issuer=DEV_ISSUER,
                leeway=self._leeway,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("token expired") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken("token is not valid") from exc
        return _claims(payload, "email", email_verified=True)  # we issued it for that address


class OidcTokens:
    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        jwks_url: str | None,
        algorithms: list[str],
        email_claim: str = "email",
        leeway_s: int = 30,
    ) -> None:
        self._issuer = issuer
        self._audience = audience
        self._algorithms = algorithms
        self._email_claim = email_claim
        self._leeway = leeway_s
        url = jwks_url or issuer.rstrip("/") + "/.well-known/jwks.json"
        # Keys are cached; an unknown `kid` triggers one refetch (key rotation).
        self._jwks = jwt.PyJWKClient(url, cache_keys=True, lifespan=3600, timeout=10)

    async def verify(self, token: str) -> Claims:
        try:
            key = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
            payload = jwt.decode(
                token,
                key.key,
                algorithms=self._algorithms,
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("token expired") from exc
        except jwt.PyJWKClientError as exc:
            raise InvalidToken("token signing key is unknown") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken("token is not valid") from exc
        return _claims(payload, self._email_claim)
