"""What the REST API views share: POST-action permissions, error shapes, Git-owned read-only, YAML bodies."""

from nautobot.core.api.authentication import TokenPermissions
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import BaseParser

from nautobot_jobflow.models.git_owned import managed_by_git


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


class GitManagedMixin:
    """Writes to a Git-owned definition (a workflow's steps and edges too) answer 403 saying where to change it.

    Single and bulk writes alike (bulk update and delete call these per object). The model's guard
    (``models.git_owned``) refuses any other write path.
    """

    def perform_create(self, serializer):
        """A step or an edge may not be added to a Git-owned workflow (one object, or a list in bulk)."""
        created = serializer.validated_data
        for data in created if isinstance(created, list) else [created]:
            refuse_git_managed(data.get("workflow"))
        super().perform_create(serializer)

    def perform_update(self, serializer):
        """Neither the object nor the workflow it would move to may be Git-owned."""
        refuse_git_managed(serializer.instance)
        refuse_git_managed(serializer.validated_data.get("workflow"))
        super().perform_update(serializer)

    def perform_destroy(self, instance):
        """A Git-owned definition is deleted by removing its file."""
        refuse_git_managed(instance)
        super().perform_destroy(instance)


def refuse_git_managed(obj):
    """Raise DRF's PermissionDenied (403) with the reason when ``obj`` is managed by Git."""
    message = managed_by_git(obj) if obj is not None else None
    if message:
        raise PermissionDenied(message)


class YAMLTextParser(BaseParser):
    """A request body that is YAML text (``application/yaml``), handed on as ``{"yaml": <text>}``."""

    media_type = "application/yaml"

    def parse(self, stream, media_type=None, parser_context=None):
        """The body as text (UTF-8 unless the request says otherwise)."""
        encoding = (parser_context or {}).get("encoding") or "utf-8"
        try:
            return {"yaml": stream.read().decode(encoding)}
        except UnicodeDecodeError:
            raise ValidationError({"yaml": ["The body is not text in the request's encoding."]}) from None
