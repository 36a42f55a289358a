"""Opening and closing the process-wide resources: database (embedded when unconfigured), migrations,
the demo setup in development, Casbin with the role assignments, encrypted storage, audit writer."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import migrations
from authz.audit_writer import AuditWriter
from authz.authorizer import Authorizer, RoleAssignment
from authz.principal import ANY_ORGANIZATION, SERVICE_ROLES
from authz.tokens import DevTokens, OidcTokens, TokenVerifier
from core.crypto import KeyWrapper
from core.db import Database, create_engine
from core.embedded_pg import release_embedded_server, resolve_database_url
from core.secrets import dev_jwt_secret, master_key
from core.settings import Settings
from core.storage import EncryptedStore, LocalDirectoryStore
from notes.authentication import Authenticator
from notes.drafter_status import DrafterStatus
from notes.identity.repository import IdentityRepository
from notes.identity.seed import seed_demo

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    database: Database
    authorizer: Authorizer
    store: EncryptedStore
    audit_writer: AuditWriter
    authenticator: Authenticator
    drafter_status: DrafterStatus = field(default_factory=DrafterStatus)  # this process's pipeline drafter

    @property
    def database_url(self) -> str:
        return self.database.engine.url.render_as_string(hide_password=False)


def token_verifier(settings: Settings) -> TokenVerifier:
    auth = settings.auth
    if auth.oidc_issuer and auth.oidc_audience:
        return OidcTokens(
            issuer=auth.oidc_issuer,
            audience=auth.oidc_audience,
            jwks_url=auth.oidc_jwks_url,
            algorithms=auth.oidc_algorithms,
            email_claim=auth.oidc_email_claim,
            leeway_s=auth.leeway_s,
        )
    return DevTokens(dev_jwt_secret(settings), leeway_s=auth.leeway_s)


def encrypted_store(settings: Settings) -> EncryptedStore:
    root = settings.storage.directory or settings.home_path("objects")
    return EncryptedStore(LocalDirectoryStore(root), KeyWrapper(master_key(settings), settings.storage.master_key_id))


SERVICE_ASSIGNMENTS = [
    RoleAssignment(f"service:{name}", role, ANY_ORGANIZATION) for name, role in SERVICE_ROLES.items()
]


async def load_role_assignments(database: Database, authorizer: Authorizer) -> None:
    async with database.session() as session:
        people = await IdentityRepository(session).all_role_assignments()
    authorizer.replace_assignments([*people, *SERVICE_ASSIGNMENTS])


async def open_database(settings: Settings) -> Database:
    url = await resolve_database_url(settings)
    await migrations.upgrade(url)
    engine = create_engine(url, settings.database)
    database = Database.for_engine(engine, settings.database)
    if settings.development:
        async with database.transaction() as session:
            await seed_demo(session)
    return database


async def open_services(settings: Settings, database: Database | None = None) -> Services:
    database = database or await open_database(settings)
    authorizer = Authorizer()
    await load_role_assignments(database, authorizer)
    audit_writer = AuditWriter(database)
    await audit_writer.start()
    return Services(
        settings=settings,
        database=database,
        authorizer=authorizer,
        store=encrypted_store(settings),
        audit_writer=audit_writer,
        authenticator=Authenticator(database, token_verifier(settings)),
    )


async def close_services(services: Services) -> None:
    await services.audit_writer.stop()
    await services.database.close()
    if services.settings.database_url is None:
        await asyncio.to_thread(release_embedded_server, services.settings.home_path())
