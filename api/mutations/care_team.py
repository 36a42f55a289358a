from __future__ import annotations

import strawberry

from api.policy import policy
from api.types.common import parse_id
from api.types.errors import EncounterError, encounter_error
from notes.encounters.errors import EncounterError as EncounterDomainError
from notes.encounters.errors import EncounterErrorCode
from notes.encounters.service import change_care_team


@strawberry.input(description="A member of staff to add to or remove from an encounter's care team.")
class CareTeamChangeInput:
    encounter_id: strawberry.ID = strawberry.field(description="The encounter.")
    user_id: strawberry.ID = strawberry.field(description="A clinician or scribe of your organization.")


@strawberry.type(description="The change, or why not.")
class CareTeamChangePayload:
    encounter_id: strawberry.ID | None = strawberry.field(description="The encounter changed.")
    errors: list[EncounterError] = strawberry.field(description="Empty on success.")


async def _change(info: strawberry.Info, input: CareTeamChangeInput, *, add: bool) -> CareTeamChangePayload:
    context = info.context
    encounter_id, user_id = parse_id(input.encounter_id), parse_id(input.user_id)
    try:
        if encounter_id is None:
            raise EncounterDomainError(EncounterErrorCode.NOT_FOUND, "no such encounter", "encounterId")
        if user_id is None:
            raise EncounterDomainError(EncounterErrorCode.USER_NOT_FOUND, "no such user", "userId")
        encounter = await change_care_team(
            context.services.database, context.access, encounter_id=encounter_id, user_id=user_id, add=add
        )
    except EncounterDomainError as error:
        return CareTeamChangePayload(encounter_id=None, errors=[encounter_error(error)])
    return CareTeamChangePayload(encounter_id=strawberry.ID(str(encounter.id)), errors=[])


@strawberry.mutation(
    description="Give a clinician or scribe access to an encounter (admins, or its responsible clinician).",
    extensions=[policy("care_team", "update")],
)
async def care_team_add(info: strawberry.Info, input: CareTeamChangeInput) -> CareTeamChangePayload:
    return await _change(info, input, add=True)


@strawberry.mutation(
    description="Withdraw a care-team member's access; their open subscriptions end.",
    extensions=[policy("care_team", "update")],
)
async def care_team_remove(info: strawberry.Info, input: CareTeamChangeInput) -> CareTeamChangePayload:
    return await _change(info, input, add=False)
