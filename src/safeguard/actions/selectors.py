"""Reads for actions, with the access check: an action one may not see does not exist for them."""

from __future__ import annotations

import uuid

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission
from safeguard.actions.models import Action
from safeguard.cases.selectors import visible_cases
from safeguard.core.errors import NotFound


class ActionNotFound(NotFound):
    def __init__(self, action_id: object) -> None:
        super().__init__(f"no action {action_id}")


def action_get_for_platform(*, user: User, action_id: uuid.UUID) -> Action:
    """An action addressed to the platform the service account speaks for; another platform's
    action answers exactly as one that does not exist."""
    if not user.has_permission(Permission.ACTIONS_ACTION_CONFIRM) or not user.platform:
        raise ActionNotFound(action_id)
    action = Action.objects.filter(pk=action_id, platform=user.platform).first()
    if action is None:
        raise ActionNotFound(action_id)
    return action


def action_get_for(*, user: User, action_id: uuid.UUID) -> Action:
    """An action of a case the user may see (`cases.selectors.visibility_for`)."""
    action = Action.objects.filter(pk=action_id, case__in=visible_cases(user)).first()
    if action is None:
        raise ActionNotFound(action_id)
    return action
