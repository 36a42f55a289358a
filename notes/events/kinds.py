from __future__ import annotations

from enum import StrEnum


class EventKind(StrEnum):
    STATUS_CHANGED = "STATUS_CHANGED"  # {"status", "reason"?}
    CHUNK_RECEIVED = "CHUNK_RECEIVED"  # {"sequence"}
    CHUNKS_MISSING = "CHUNKS_MISSING"  # {"missing": [sequence, ...]}
    SEGMENT_ADDED = "SEGMENT_ADDED"  # {"transcriptId", "segmentIds", "final"}
    TRANSCRIPT_COMPLETED = "TRANSCRIPT_COMPLETED"  # {"transcriptId", "status"}
    FINDINGS_UPDATED = "FINDINGS_UPDATED"  # {"problems", "medications"} (counts)
    NOTE_SECTION_DRAFTED = "NOTE_SECTION_DRAFTED"  # {"noteId", "section"}
    CLAIMS_CHECKED = "CLAIMS_CHECKED"  # {"noteId", "supported", "unsupported", "contradicted"}
    NOTE_EDITED = "NOTE_EDITED"  # {"noteId", "version"}
    NOTE_SIGNED = "NOTE_SIGNED"  # {"noteId", "version"}
    NOTE_AMENDED = "NOTE_AMENDED"  # {"noteId", "amendmentId"}
    CARE_TEAM_CHANGED = "CARE_TEAM_CHANGED"  # {"userId", "change": "added" | "removed"}
