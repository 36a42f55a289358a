"""The GraphQL documents the tests send, written as a mobile client would."""

PATIENT_CREATE = """
mutation($input: PatientCreateInput!) {
  patientCreate(input: $input) { patient { id mrn givenName familyName birthDate } errors { code message field } }
}"""

ENCOUNTER_CREATE = """
mutation($input: EncounterCreateInput!) {
  encounterCreate(input: $input) {
    encounter { id status reason clinician { email } patient { id } }
    errors { code message field }
  }
}"""

RECORDING_UPLOAD = """
mutation($input: RecordingUploadInput!) {
  recordingUpload(input: $input) {
    recording { id sha256 byteSize contentType durationSeconds channels createdAt }
    errors { code message field }
  }
}"""

ENCOUNTER = """
query($id: ID!) {
  encounter(id: $id) {
    id status reason createdAt
    patient { id givenName familyName }
    clinician { email }
    recordings { id sha256 byteSize contentType durationSeconds createdAt }
  }
}"""

PATIENTS = """
query($first: Int, $after: String, $search: String) {
  patients(first: $first, after: $after, search: $search) {
    edges { node { id mrn givenName familyName } cursor }
    pageInfo { hasNextPage endCursor }
  }
}"""

AUDIT_EVENTS = """
query($first: Int, $after: String) {
  auditEvents(first: $first, after: $after) {
    edges { node { id actorName actorRole action resourceType resourceId outcome requestId hash prevHash } }
    pageInfo { hasNextPage endCursor }
  }
}"""
