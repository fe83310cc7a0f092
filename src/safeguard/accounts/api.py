"""Account endpoints: who the caller is and what they may do."""

from django.http import HttpRequest
from ninja import Router
from pydantic import BaseModel

from safeguard.accounts.auth import any_authenticated
from safeguard.accounts.permissions import role_permissions

router = Router(tags=["accounts"])


class MeOut(BaseModel):
    username: str
    role: str
    permissions: list[str]


@router.get("/me", response=MeOut, auth=any_authenticated(), summary="The calling account")
def me(request: HttpRequest) -> MeOut:
    user = request.auth  # type: ignore[attr-defined]
    return MeOut(
        username=user.username,
        role=user.role,
        permissions=sorted(p.value for p in role_permissions(user.role)),
    )
