from __future__ import annotations

import strawberry

from api.mutations.care_team import care_team_add, care_team_remove
from api.mutations.encounter_create import encounter_create
from api.mutations.note_omissions import note_omission_acknowledge
from api.mutations.notes import note_amend, note_regenerate, note_sign, note_update
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
    note_update = note_update
    note_sign = note_sign
    note_omission_acknowledge = note_omission_acknowledge
    note_amend = note_amend
    note_regenerate = note_regenerate
    care_team_add = care_team_add
    care_team_remove = care_team_remove
