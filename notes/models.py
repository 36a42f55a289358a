"""Every table of the domain, imported in one place for Alembic and the tests."""

from authz.models import AuditEventRow
from notes.encounters.models import CareTeamMember, Encounter
from notes.events.models import EncounterEvent
from notes.findings.models import Finding
from notes.identity.models import Membership, Organization, ScribeAssignment, User
from notes.patients.models import Patient
from notes.recordings.models import Recording, RecordingChunk
from notes.transcripts.models import Transcript, TranscriptSegment
from notes.visitnotes.models import Note, NoteAmendment, NoteVersion, OmissionAcknowledgement

__all__ = [
    "AuditEventRow",
    "CareTeamMember",
    "Encounter",
    "EncounterEvent",
    "Finding",
    "Membership",
    "Note",
    "NoteAmendment",
    "NoteVersion",
    "OmissionAcknowledgement",
    "Organization",
    "Patient",
    "Recording",
    "RecordingChunk",
    "ScribeAssignment",
    "Transcript",
    "TranscriptSegment",
    "User",
]
