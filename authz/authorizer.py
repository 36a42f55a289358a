"""Casbin decides every access. The model and the reviewed policy are files in this package;
role assignments are data (database rows) handed to `replace_assignments` and kept in sync.

Decisions come from an index of the policy rather than from `Enforcer.enforce()`, which evaluates the
matcher against every rule: a denial (or a first decision) cost time proportional to the policy —
~2 ms at 1,000 rules and, with role assignments in the thousands, seconds for the first decision in
a domain while Casbin built its role graph. The index (`PolicyIndex`) evaluates exactly our model's
matcher, `g(r.sub, p.sub, r.dom) && keyMatch(r.dom, p.dom) && keyMatch(r.obj, p.obj) &&
keyMatch(r.act, p.act)` with keyMatch as the domain matching function of `g`, from the subject's own
role links and its roles' own rules, so its cost does not grow with the number of rules or
assignments. It is checked against Casbin's `enforce()` on randomized policies and requests
(tests/authz/test_authorizer_index.py). A model file with any other matcher is decided by Casbin itself.

Decisions are also memoised per (subject, domain, resource, action): the policy only changes through
this object, which drops the memo on every change, so a cached answer is never stale.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import casbin
from casbin.persist.adapters import FileAdapter
from casbin.util import key_match

from authz.principal import ANY_ORGANIZATION, Principal

_MEMO_LIMIT = 100_000
# The model the index implements, as Casbin normalises it (`r.sub` becomes `r_sub`).
_INDEXED_MODEL = {
    ("r", "r"): "sub, dom, obj, act",
    ("p", "p"): "sub, dom, obj, act",
    ("g", "g"): "_, _, _",
    ("e", "e"): "some(where (p_eft == allow))",
    ("m", "m"): "g(r_sub, p_sub, r_dom) && keyMatch(r_dom, p_dom) && keyMatch(r_obj, p_obj) && keyMatch(r_act, p_act)",
}
_MAX_HIERARCHY_LEVEL = 10  # Casbin's default role manager: the subject and roles up to 9 links away


@dataclass(frozen=True, slots=True)
class RoleAssignment:
    subject: str  # "user:<uuid>" or "service:<name>"
    role: str  # "clinician", ...
    domain: str  # "org:<uuid>" or "*"


def _package_file(name: str) -> Path:
    return Path(str(resources.files("authz").joinpath(name)))


def _is_indexed_model(enforcer: casbin.Enforcer) -> bool:
    model = enforcer.get_model().model
    sections = {(section, key): assertion.value for section in model for key, assertion in model[section].items()}
    return sections == _INDEXED_MODEL


class PolicyIndex:
    """Our model's matcher over rules grouped by subject and role links grouped by domain and user.

    - `g(r.sub, p.sub, r.dom)`: Casbin's domain role manager, with keyMatch as its domain matching
      function, answers from the links stored under the request's domain plus those stored under any
      other domain that keyMatches it (a pattern such as `*`), following links up to 9 deep; a subject
      is always linked to itself.
    - then any rule of the subject or one of those roles whose domain, object and action keyMatch. A
      rule whose object has no `*` matches one object only (keyMatch is then equality), so those rules
      are found by object; the few with a pattern are tried one by one.
    Cost: the links of one subject and its roles' rules for one object (a handful), whatever the size
    of the policy.
    """

    def __init__(self, rules: Iterable[Sequence[str]], links: Iterable[Sequence[str]]) -> None:
        self._by_object: dict[str, dict[str, list[tuple[str, str]]]] = {}  # subject → object → (dom, act)
        self._patterns: dict[str, list[tuple[str, str, str]]] = {}  # subject → (dom, object pattern, act)
        for subject, domain, resource, action in (rule[:4] for rule in rules):
            if "*" in resource:
                self._patterns.setdefault(subject, []).append((domain, resource, action))
            else:
                self._by_object.setdefault(subject, {}).setdefault(resource, []).append((domain, action))
        self._links: dict[str, dict[str, list[str]]] = {}  # domain → user → roles
        for user, role, domain in (link[:3] for link in links):
            self._links.setdefault(domain, {}).setdefault(user, []).append(role)
        # Only a stored domain with a `*` can keyMatch a request's domain other than itself.
        self._pattern_domains = [domain for domain in self._links if "*" in domain]

    def decide(self, subject: str, domain: str, resource: str, action: str) -> bool:
        for name in self._subjects(subject, domain):
            objects = self._by_object.get(name)
            if objects is not None:
                for rule_domain, rule_action in objects.get(resource, ()):
                    if key_match(domain, rule_domain) and key_match(action, rule_action):
                        return True
            for rule_domain, rule_resource, rule_action in self._patterns.get(name, ()):
                if (
                    key_match(domain, rule_domain)
                    and key_match(resource, rule_resource)
                    and key_match(action, rule_action)
                ):
                    return True
        return False

    def _subjects(self, subject: str, domain: str) -> set[str]:
        """The subject and every role it reaches in `domain`."""
        graphs = [links for links in (self._links.get(domain),) if links]
        graphs += [
            self._links[pattern]
            for pattern in self._pattern_domains
            if pattern != domain and key_match(domain, pattern)
        ]
        reached, frontier = {subject}, [subject]
        for _ in range(_MAX_HIERARCHY_LEVEL - 1):
            following = []
            for name in frontier:
                for links in graphs:
                    for role in links.get(name, ()):
                        if role not in reached:
                            reached.add(role)
                            following.append(role)
            if not following:
                break
            frontier = following
        return reached


class Authorizer:
    def __init__(self, model_path: Path | None = None, policy_path: Path | None = None) -> None:
        self._model_path = model_path or _package_file("model.conf")
        self._policy_path = policy_path or _package_file("policy.csv")
        self._lock = threading.Lock()
        self._assignments: set[RoleAssignment] = set()
        self._enforcer, self._index = self._build(self._assignments)
        self._memo: dict[tuple[str, str, str, str], bool] = {}

    def _build(self, assignments: Iterable[RoleAssignment]) -> tuple[casbin.Enforcer, PolicyIndex | None]:
        enforcer = casbin.Enforcer(str(self._model_path), FileAdapter(str(self._policy_path)))
        # Service roles are granted in every domain ("*"): let the role manager match domains by pattern.
        enforcer.add_named_domain_matching_func("g", key_match)
        links = [[a.subject, f"role:{a.role}", a.domain] for a in assignments]
        if _is_indexed_model(enforcer):
            # Casbin keeps the reviewed policy (and any links in the file); the assignments live only in
            # the index, which spares building Casbin's role graph for thousands of them on every change.
            rules = enforcer.get_named_policy("p")
            return enforcer, PolicyIndex(rules, [*enforcer.get_named_grouping_policy("g"), *links])
        if links:
            enforcer.add_named_grouping_policies("g", links)
        return enforcer, None

    # -- role assignments (data) -------------------------------------------------------------------
    def replace_assignments(self, assignments: Iterable[RoleAssignment]) -> None:
        """Swap in a complete set (startup, or a change notified by another process)."""
        new = set(assignments)
        enforcer, index = self._build(new)
        with self._lock:
            self._assignments, self._enforcer, self._index, self._memo = new, enforcer, index, {}

    def grant(self, assignment: RoleAssignment) -> None:
        self.replace_assignments(self._assignments | {assignment})

    def revoke(self, assignment: RoleAssignment) -> None:
        self.replace_assignments(self._assignments - {assignment})

    @property
    def assignments(self) -> frozenset[RoleAssignment]:
        return frozenset(self._assignments)

    @property
    def policy_count(self) -> int:
        """Rules plus role links (the file's and the assignments)."""
        rules, links = len(self._enforcer.get_policy()), len(self._enforcer.get_grouping_policy())
        if self._index is not None:
            links += len(self._assignments)
        return rules + links

    @property
    def indexed(self) -> bool:
        return self._index is not None

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
            decision = self.decide(subject, domain, resource, action)
            if len(memo) >= _MEMO_LIMIT:
                memo.clear()
            memo[key] = decision
        return decision

    def decide(self, subject: str, domain: str, resource: str, action: str) -> bool:
        """The decision itself, without the memo."""
        index = self._index
        if index is not None:
            return index.decide(subject, domain, resource, action)
        return bool(self._enforcer.enforce(subject, domain, resource, action))


__all__ = ["ANY_ORGANIZATION", "Authorizer", "PolicyIndex", "RoleAssignment"]
