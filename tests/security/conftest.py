"""The battery runs against the real ASGI app, in development (`api`, from tests/conftest.py) and, where
the attack is about what production reveals, in production mode (`production_api`)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest

from api.app import create_app
from authz.tokens import DevTokens
from core.secrets import dev_jwt_secret
from core.settings import Settings
from notes.bootstrap import Services
from tests.conftest import Api


@pytest.fixture
async def production_api(settings: Settings, services: Services) -> AsyncIterator[Api]:
    """The app as `AMBIENT_ENVIRONMENT=production` builds it; tokens are still the dev ones (the settings
    copy skips the refusal of dev secrets, which is not under test here)."""
    production = settings.model_copy(update={"environment": "production"})
    app = create_app(production, dataclasses.replace(services, settings=production))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield Api(client, DevTokens(dev_jwt_secret(settings)))
