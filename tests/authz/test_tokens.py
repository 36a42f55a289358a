"""Development HS256 tokens and production OIDC tokens verified against a JWKS served over real HTTP."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from authz.tokens import DevTokens, InvalidToken, OidcTokens


async def test_dev_tokens_round_trip_and_expire() -> None:
    tokens = DevTokens(b"s" * 48, leeway_s=0)
    claims = await tokens.verify(tokens.issue("Dr.Lee@Demo.test", ttl_minutes=5, organization="demo"))
    assert (claims.subject, claims.email, claims.organization, claims.email_verified) == (
        "dr.lee@demo.test",
        "dr.lee@demo.test",
        "demo",
        True,
    )
    expired = jwt.encode(
        {"iss": "ambient-dev", "aud": "ambient", "sub": "x", "iat": 1, "exp": int(time.time()) - 5},
        b"s" * 48,
        "HS256",
    )
    with pytest.raises(InvalidToken, match="expired"):
        await tokens.verify(expired)
    with pytest.raises(InvalidToken):
        await DevTokens(b"t" * 48).verify(tokens.issue("a@b.c", ttl_minutes=5))


@pytest.fixture(scope="module")
def identity_provider() -> Iterator[tuple[str, Any]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwks = json.dumps({"keys": [jwk | {"kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/.well-known/jwks.json" else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(jwks)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", key
    server.shutdown()


def _sign(key: Any, issuer: str, **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": issuer,
        "aud": "ambient-api",
        "sub": "idp|123",
        "email": "dr.lee@demo.test",
        "email_verified": True,
        "iat": now,
        "exp": now + 300,
    } | overrides
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})


async def test_oidc_tokens_are_checked_against_the_issuers_keys(identity_provider: tuple[str, Any]) -> None:
    issuer, key = identity_provider
    verifier = OidcTokens(issuer=issuer, audience="ambient-api", jwks_url=None, algorithms=["RS256"], leeway_s=0)
    claims = await verifier.verify(_sign(key, issuer))
    assert (claims.subject, claims.email, claims.email_verified) == ("idp|123", "dr.lee@demo.test", True)

    with pytest.raises(InvalidToken):
        await verifier.verify(_sign(key, issuer, aud="someone-else"))
    with pytest.raises(InvalidToken):
        await verifier.verify(_sign(key, "https://evil.example"))
    with pytest.raises(InvalidToken, match="expired"):
        await verifier.verify(_sign(key, issuer, exp=int(time.time()) - 10))
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(InvalidToken):
        await verifier.verify(_sign(stranger, issuer))
    hs = jwt.encode(
        {"iss": issuer, "aud": "ambient-api", "sub": "x", "iat": 1, "exp": int(time.time()) + 60},
        "k" * 32,
        "HS256",
        headers={"kid": "k1"},
    )
    with pytest.raises(InvalidToken):  # algorithm confusion is refused
        await verifier.verify(hs)
    unverified = await verifier.verify(_sign(key, issuer, email_verified=False))
    assert unverified.email_verified is False
