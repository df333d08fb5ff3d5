"""What the REST API views of every capability share: query-value checks, POST-action permissions, error shapes."""

from django.db import DataError, connection, transaction
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


REGEX_LOOKUPS = ("__re", "__nre", "__ire", "__nire")


def _bad_regex(pattern):
    """PostgreSQL's own complaint about a regular expression (None when it compiles), asked in a savepoint."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT '' ~ %s", [pattern])
    except DataError as error:
        return str(error).strip().splitlines()[0]
    return None


class RejectBadQueryValuesMixin:
    """Answer 400 naming the query parameter whose value PostgreSQL cannot take, instead of a 500.

    Nautobot's filtering passes query values to PostgreSQL unchanged, so ``?name__ic=%00`` (a NUL character) and
    ``?name__re=(`` (an invalid regular expression) end in database errors and HTTP 500, in Nautobot core too; so
    does a negative ``?offset=`` (PostgreSQL refuses a negative OFFSET).
    Found by tests/test_api_fuzz.py.
    """

    def initial(self, request, *args, **kwargs):
        """Check the query string before authentication, permissions and filtering."""
        problems = {}
        for key, values in request.query_params.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                problems[key.replace("\x00", "\\x00")] = ["Null characters are not allowed."]
            elif key == "offset" and any(value.strip().lstrip("-").isdigit() and int(value) < 0 for value in values):
                problems[key] = ["The offset cannot be negative."]
            elif key.endswith(REGEX_LOOKUPS):
                errors = [f"Invalid regular expression: {error}" for error in map(_bad_regex, values) if error]
                if errors:
                    problems[key] = errors
        if problems:
            raise ValidationError(problems)
        super().initial(request, *args, **kwargs)


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
