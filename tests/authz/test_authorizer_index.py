"""The policy index decides exactly as Casbin's own `enforce()` would, on random policies and requests.

Random policies use every wildcard shape keyMatch knows (`*` alone, a prefix, a `*` in the middle,
which keyMatch treats as a prefix too), role hierarchies (longer than Casbin's 9-link limit as well),
links granted in every domain (`*`) and in a domain pattern (`org:*`); requests mix subjects, roles,
unknown names and domains with and without wildcards.
"""

from __future__ import annotations

import itertools
import random
import uuid
from pathlib import Path

import casbin
import pytest
from casbin.persist.adapters import FileAdapter
from casbin.util import key_match

from authz.authorizer import Authorizer, PolicyIndex, RoleAssignment, _package_file
from authz.principal import Principal

MODEL = _package_file("model.conf")
DOMAINS = ["org:a", "org:b", "org:c", "*", "org:*", "o*", "org:a*"]
REQUEST_DOMAINS = ["org:a", "org:b", "org:c", "org:ab", "*", "org:*", "other", ""]
OBJECTS = ["patient", "patients", "note", "note_version", "*", "note*", "pat*ent", "recording", ""]
REQUEST_OBJECTS = ["patient", "patients", "note", "note_version", "notes", "recording", "pat", "x", "*", ""]
ACTIONS = ["read", "sign", "*", "re*", "update"]
REQUEST_ACTIONS = ["read", "reading", "sign", "update", "delete", "*", "re"]
USERS = [f"user:{i}" for i in range(6)] + ["service:transcriber", "service:drafter"]
ROLES = [f"role:{name}" for name in ("clinician", "scribe", "audit", "admin", "lead", "*")]


def reference(policy_file: Path, links: list[list[str]]) -> casbin.Enforcer:
    """Plain Casbin, configured the way the Authorizer configured it before the index existed."""
    enforcer = casbin.Enforcer(str(MODEL), FileAdapter(str(policy_file)))
    enforcer.add_named_domain_matching_func("g", key_match)
    for user, role, domain in links:
        enforcer.add_role_for_user_in_domain(user, role, domain)
    return enforcer


def random_case(rng: random.Random, tmp_path: Path) -> tuple[Path, list[list[str]], list[RoleAssignment]]:
    rules = {
        (rng.choice(ROLES + USERS[:2]), rng.choice(DOMAINS), rng.choice(OBJECTS), rng.choice(ACTIONS))
        for _ in range(rng.randint(0, 25))
    }
    file_links = {(rng.choice(ROLES), rng.choice(ROLES), rng.choice(DOMAINS)) for _ in range(rng.randint(0, 4))}
    lines = [f"p, {', '.join(rule)}" for rule in sorted(rules)] + [f"g, {', '.join(link)}" for link in file_links]
    policy_file = tmp_path / f"policy-{rng.getrandbits(32)}.csv"
    policy_file.write_text("\n".join(lines) + "\n")
    assignments = [
        RoleAssignment(rng.choice(USERS), rng.choice(ROLES).removeprefix("role:"), rng.choice(DOMAINS))
        for _ in range(rng.randint(0, 12))
    ]
    links = [[a.subject, f"role:{a.role}", a.domain] for a in assignments]
    return policy_file, links, assignments


@pytest.mark.parametrize("seed", range(60))
def test_random_policies_decide_exactly_as_casbin(seed: int, tmp_path: Path) -> None:
    rng = random.Random(seed)
    policy_file, links, assignments = random_case(rng, tmp_path)
    expected = reference(policy_file, links)
    authorizer = Authorizer(policy_path=policy_file)
    authorizer.replace_assignments(assignments)
    assert authorizer.indexed
    subjects = USERS + ROLES + ["user:unknown", ""]
    requests = [
        (rng.choice(subjects), rng.choice(REQUEST_DOMAINS), rng.choice(REQUEST_OBJECTS), rng.choice(REQUEST_ACTIONS))
        for _ in range(150)
    ]
    # and every subject against every domain for one common ask, so allowed answers are well represented
    requests += [(subject, domain, "patient", "read") for subject in subjects for domain in REQUEST_DOMAINS]
    for request in requests:
        want = bool(expected.enforce(*request))
        assert authorizer.decide(*request) == want, request
        assert authorizer.enforce(*request) == want, request  # through the memo, twice
        assert authorizer.enforce(*request) == want, request


def test_the_reviewed_policy_decides_as_casbin_for_every_role_resource_and_action() -> None:
    organizations = [f"org:{uuid.uuid4()}" for _ in range(3)]
    assignments = [
        RoleAssignment(f"user:{role}-{n}", role, organizations[n % 3])
        for role in ("clinician", "scribe", "compliance", "admin")
        for n in range(3)
    ] + [RoleAssignment(f"service:{role}", role, "*") for role in ("transcriber", "extractor", "drafter")]
    authorizer = Authorizer()
    authorizer.replace_assignments(assignments)
    expected = reference(_package_file("policy.csv"), [[a.subject, f"role:{a.role}", a.domain] for a in assignments])
    resources = {rule[2] for rule in expected.get_policy()} | {"nothing"}
    actions = {rule[3] for rule in expected.get_policy()} | {"delete"}
    allowed = 0
    for assignment in assignments:
        for domain in [*organizations, "*"]:
            for resource in resources:
                for action in actions:
                    want = bool(expected.enforce(assignment.subject, domain, resource, action))
                    assert authorizer.decide(assignment.subject, domain, resource, action) == want
                    allowed += want
    assert allowed > 0


def test_hierarchies_stop_where_casbins_do(tmp_path: Path) -> None:
    """Casbin follows role links 9 deep; a permission 10 links away is not granted by either."""
    chain = [f"role:r{i}" for i in range(12)]
    policy_file = tmp_path / "policy.csv"
    policy_file.write_text("".join(f"p, {role}, *, thing{i}, read\n" for i, role in enumerate(chain)))
    links = [["user:x", chain[0], "org:a"]] + [[a, b, "org:a"] for a, b in itertools.pairwise(chain)]
    expected = reference(policy_file, links)
    index = PolicyIndex(expected.get_named_policy("p"), links)
    answers = [index.decide("user:x", "org:a", f"thing{i}", "read") for i in range(12)]
    assert answers == [bool(expected.enforce("user:x", "org:a", f"thing{i}", "read")) for i in range(12)]
    assert answers[8] and not answers[9]


def test_decisions_do_not_consult_casbins_scan_however_large_the_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    """10,000 role assignments: decisions (first ones and denials included) come from the index."""
    organizations = [f"org:{uuid.uuid4()}" for _ in range(5)]
    authorizer = Authorizer()
    authorizer.replace_assignments(
        RoleAssignment(f"user:{n}", ("clinician", "scribe", "compliance")[n % 3], organizations[n % 5])
        for n in range(10_000)
    )
    assert authorizer.policy_count > 10_000

    def scan(*args: object) -> bool:
        raise AssertionError("Enforcer.enforce() scans every rule")

    monkeypatch.setattr(authorizer._enforcer, "enforce", scan)
    clinician = Principal(
        kind="user", id=None, name="x", organization_id=None, roles=frozenset({"clinician"})
    )  # domain "*": nothing granted there to users
    assert not authorizer.allowed(clinician, "patient", "read")
    assert authorizer.enforce("user:0", organizations[0], "patient", "read")
    assert not authorizer.enforce("user:0", organizations[1], "patient", "read")  # another organization
    assert not authorizer.enforce("user:2", organizations[2], "patient", "read")  # compliance: no PHI
    assert authorizer.enforce("user:2", organizations[2], "audit_event", "read")


def test_another_model_is_decided_by_casbin_itself(tmp_path: Path) -> None:
    model = tmp_path / "model.conf"
    model.write_text(MODEL.read_text().replace("keyMatch(r.act, p.act)", "r.act == p.act"))
    authorizer = Authorizer(model_path=model)
    assert not authorizer.indexed
    authorizer.grant(RoleAssignment("user:1", "clinician", "org:1"))
    assert authorizer.enforce("user:1", "org:1", "patient", "read")
    assert not authorizer.enforce("user:1", "org:2", "patient", "read")
