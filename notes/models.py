"""Every table of the domain, imported in one place for Alembic and the tests."""

from authz.models import AuditEventRow
from notes.encounters.models import CareTeamMember, Encounter
from notes.identity.models import Membership, Organization, ScribeAssignment, User
from notes.patients.models import Patient
from notes.recordings.models import Recording

__all__ = [
    "AuditEventRow",
    "CareTeamMember",
    "Encounter",
    "Membership",
    "Organization",
    "Patient",
    "Recording",
    "ScribeAssignment",
    "User",
]
