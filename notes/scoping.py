"""Which rows a principal may see. Every repository query goes through these predicates.

- nobody sees another organization;
- a clinician sees the encounters they are responsible for or on the care team of;
- a scribe sees the encounters of the clinicians they are assigned to;
- patient demographics are visible to the organization's clinical staff (registration needs it);
- pipeline services act on ids handed to them by jobs and see what those ids name.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true

from authz.principal import Principal
from notes.encounters.models import CareTeamMember, Encounter
from notes.identity.models import ScribeAssignment
from notes.patients.models import Patient

CLINICAL_ROLES = frozenset({"clinician", "scribe"})


def encounter_visible(principal: Principal) -> ColumnElement[bool]:
    if principal.kind == "service":
        return true()
    if principal.id is None or principal.organization_id is None:
        return false()
    paths: list[ColumnElement[bool]] = []
    if principal.has_role("clinician"):
        paths.append(Encounter.clinician_id == principal.id)
        paths.append(
            exists().where(CareTeamMember.encounter_id == Encounter.id, CareTeamMember.user_id == principal.id)
        )
    if principal.has_role("scribe"):
        assigned = select(ScribeAssignment.clinician_id).where(
            ScribeAssignment.scribe_id == principal.id,
            ScribeAssignment.organization_id == principal.organization_id,
        )
        paths.append(Encounter.clinician_id.in_(assigned))
    if not paths:
        return false()
    return and_(Encounter.organization_id == principal.organization_id, or_(*paths))


def patient_visible(principal: Principal) -> ColumnElement[bool]:
    if principal.kind == "service":
        return true()
    if principal.organization_id is None or not (principal.roles & CLINICAL_ROLES):
        return false()
    return Patient.organization_id == principal.organization_id
