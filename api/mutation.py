from __future__ import annotations

import strawberry

from api.mutations.encounter_create import encounter_create
from api.mutations.patient_create import patient_create
from api.mutations.recording_chunks import recording_chunk_append, recording_finish
from api.mutations.recording_upload import recording_upload


@strawberry.type(description="Writes. Each is one transaction, authorized and audited in that transaction.")
class Mutation:
    patient_create = patient_create
    encounter_create = encounter_create
    recording_upload = recording_upload
    recording_chunk_append = recording_chunk_append
    recording_finish = recording_finish
