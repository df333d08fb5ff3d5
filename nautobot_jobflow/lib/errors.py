"""The errors a launch raises, and the one way they are turned into a line of text."""

from django.core.exceptions import PermissionDenied, ValidationError


class LaunchRefused(ValidationError):
    """The launch cannot happen as asked (bad inputs, disabled target); the message names the field."""


class LaunchForbidden(PermissionDenied):
    """The user may not run a Job the launch would start; the message names the Job."""


def refusal_text(problem):
    """One line for a LaunchRefused/LaunchForbidden (or any ValidationError): ``field: message`` per field."""
    if hasattr(problem, "error_dict"):
        return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in problem.message_dict.items())
    return " ".join(getattr(problem, "messages", None) or [str(problem)])
