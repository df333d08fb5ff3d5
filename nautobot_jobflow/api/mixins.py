"""What the REST API views of every capability share: POST-action permissions, error shapes."""

from nautobot.core.api.authentication import TokenPermissions
from rest_framework.exceptions import ValidationError


def _permission_class(method_permission):
    """A TokenPermissions whose POST needs ``<app>.<method_permission>_<model>`` instead of add."""

    class _Permissions(TokenPermissions):
        perms_map = {"POST": [f"%(app_label)s.{method_permission}_%(model_name)s"]}

    _Permissions.__name__ = f"{method_permission.title()}OnPostPermissions"
    return _Permissions


ViewOnPostPermissions = _permission_class("view")
ChangeOnPostPermissions = _permission_class("change")


def validation_error(error):
    """A Django ValidationError (LaunchRefused included) as DRF's, keeping the field names."""
    if hasattr(error, "error_dict"):
        return ValidationError(error.message_dict)
    return ValidationError({"detail": error.messages})


def pending_answer(outcome):
    """Body of a 202 answer: the launch waits for approval."""
    request = outcome.request
    return {
        "approval_required": True,
        "detail": f"Held for approval by policy '{request.policy_name}'.",
        "request": str(request.pk),
        "request_url": request.get_absolute_url(),
        "run": str(outcome.run.pk) if outcome.run else None,
    }


class ActionRestrictionMixin:
    """Object lookups of the POST actions use the permission those actions need, not "add"."""

    action_restrictions = {}

    def restrict_queryset(self, request, *args, **kwargs):
        """As ModelViewSetMixin, except for the actions in ``action_restrictions``."""
        if request.user.is_authenticated and self.action in self.action_restrictions:
            self.queryset = self.queryset.restrict(request.user, self.action_restrictions[self.action])
        else:
            super().restrict_queryset(request, *args, **kwargs)
