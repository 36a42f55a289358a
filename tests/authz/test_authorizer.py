from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from authz.authorizer import Authorizer, RoleAssignment
from authz.principal import Principal

ORG_A, ORG_B = uuid.uuid4(), uuid.uuid4()


def user(role: str, org: uuid.UUID = ORG_A) -> Principal:
    return Principal(kind="user", id=uuid.uuid4(), name="x@demo.test", organization_id=org, roles=frozenset({role}))


@pytest.fixture
def authorizer() -> Authorizer:
    return Authorizer()


def grant(authorizer: Authorizer, principal: Principal, role: str, org: uuid.UUID = ORG_A) -> None:
    authorizer.grant(RoleAssignment(principal.subject, role, f"org:{org}"))


def test_roles_allow_only_what_the_policy_says(authorizer: Authorizer) -> None:
    clinician, audit = user("clinician"), user("compliance")
    grant(authorizer, clinician, "clinician")
    grant(authorizer, audit, "compliance")
    assert authorizer.allowed(clinician, "encounter", "read")
    assert authorizer.allowed(clinician, "note", "sign")
    assert not authorizer.allowed(clinician, "audit_event", "read")
    assert authorizer.allowed(audit, "audit_event", "read")
    assert not authorizer.allowed(audit, "patient", "read")
    assert not authorizer.allowed(audit, "encounter", "read")


def test_a_role_in_one_organization_grants_nothing_in_another(authorizer: Authorizer) -> None:
    clinician = user("clinician")
    grant(authorizer, clinician, "clinician", ORG_B)  # granted elsewhere only
    assert not authorizer.allowed(clinician, "patient", "read")


def test_default_deny_and_revocation_take_effect_immediately(authorizer: Authorizer) -> None:
    clinician = user("clinician")
    assert not authorizer.allowed(clinician, "patient", "read")
    grant(authorizer, clinician, "clinician")
    assert authorizer.allowed(clinician, "patient", "read")  # memoised now
    authorizer.revoke(RoleAssignment(clinician.subject, "clinician", f"org:{ORG_A}"))
    assert not authorizer.allowed(clinician, "patient", "read")
    assert not authorizer.allowed(None, "me", "read")


def test_service_roles_apply_in_every_organization(authorizer: Authorizer) -> None:
    worker = Principal.service("transcriber", "transcriber")
    authorizer.grant(RoleAssignment(worker.subject, "transcriber", "*"))
    assert authorizer.enforce(worker.subject, f"org:{ORG_A}", "recording", "read")
    assert authorizer.enforce(worker.subject, f"org:{ORG_B}", "transcript", "write")
    assert not authorizer.enforce(worker.subject, f"org:{ORG_A}", "patient", "read")


def test_wildcards_in_the_policy_keep_their_meaning(tmp_path: Path) -> None:
    policy = tmp_path / "policy.csv"
    policy.write_text("p, role:root, *, *, *\np, role:reader, *, note, read\np, role:noter, *, note*, *\n")
    authorizer = Authorizer(policy_path=policy)
    root, reader, noter = user("root"), user("reader"), user("noter")
    for principal, role in ((root, "root"), (reader, "reader"), (noter, "noter")):
        grant(authorizer, principal, role)
    assert authorizer.allowed(root, "anything", "whatever")
    assert authorizer.allowed(reader, "note", "read") and not authorizer.allowed(reader, "note", "sign")
    assert authorizer.allowed(noter, "note_version", "sign") and not authorizer.allowed(noter, "patient", "read")
