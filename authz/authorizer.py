"""Casbin decides every access. The model and the reviewed policy are files in this package;
role assignments are data (database rows) handed to `replace_assignments` and kept in sync.

Decisions are memoised per (subject, domain, resource, action): the policy only changes through
this object, which drops the memo on every change, so a cached answer is never stale.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import casbin
from casbin.persist.adapters import FileAdapter

from authz.principal import ANY_ORGANIZATION, Principal

_MEMO_LIMIT = 100_000


@dataclass(frozen=True, slots=True)
class RoleAssignment:
    subject: str  # "user:<uuid>" or "service:<name>"
    role: str  # "clinician", ...
    domain: str  # "org:<uuid>" or "*"


def _package_file(name: str) -> Path:
    return Path(str(resources.files("authz").joinpath(name)))


class Authorizer:
    def __init__(self, model_path: Path | None = None, policy_path: Path | None = None) -> None:
        self._model_path = model_path or _package_file("model.conf")
        self._policy_path = policy_path or _package_file("policy.csv")
        self._lock = threading.Lock()
        self._assignments: set[RoleAssignment] = set()
        self._enforcer = self._build(self._assignments)
        self._memo: dict[tuple[str, str, str, str], bool] = {}

    def _build(self, assignments: Iterable[RoleAssignment]) -> casbin.Enforcer:
        enforcer = casbin.Enforcer(str(self._model_path), FileAdapter(str(self._policy_path)))
        # Service roles are granted in every domain ("*"): let the role manager match domains by pattern.
        enforcer.add_named_domain_matching_func("g", casbin.util.key_match)
        for assignment in assignments:
            enforcer.add_role_for_user_in_domain(assignment.subject, f"role:{assignment.role}", assignment.domain)
        return enforcer

    # -- role assignments (data) -------------------------------------------------------------------
    def replace_assignments(self, assignments: Iterable[RoleAssignment]) -> None:
        """Swap in a complete set (startup, or a change notified by another process)."""
        new = set(assignments)
        enforcer = self._build(new)
        with self._lock:
            self._assignments, self._enforcer, self._memo = new, enforcer, {}

    def grant(self, assignment: RoleAssignment) -> None:
        self.replace_assignments(self._assignments | {assignment})

    def revoke(self, assignment: RoleAssignment) -> None:
        self.replace_assignments(self._assignments - {assignment})

    @property
    def assignments(self) -> frozenset[RoleAssignment]:
        return frozenset(self._assignments)

    @property
    def policy_count(self) -> int:
        return len(self._enforcer.get_policy()) + len(self._enforcer.get_grouping_policy())

    # -- decisions -----------------------------------------------------------------------------------
    def allowed(self, principal: Principal | None, resource: str, action: str) -> bool:
        if principal is None:
            return False
        return self.enforce(principal.subject, principal.domain, resource, action)

    def enforce(self, subject: str, domain: str, resource: str, action: str) -> bool:
        key = (subject, domain, resource, action)
        memo = self._memo
        decision = memo.get(key)
        if decision is None:
            decision = bool(self._enforcer.enforce(subject, domain, resource, action))
            if len(memo) >= _MEMO_LIMIT:
                memo.clear()
            memo[key] = decision
        return decision


__all__ = ["ANY_ORGANIZATION", "Authorizer", "RoleAssignment"]
