"""A Job's inputs validated by the Job's own form, turned into job_kwargs as Nautobot's REST run does."""

from django.core.exceptions import ValidationError
from nautobot.extras.jobs import BaseJob

from nautobot_jobflow.lib.errors import LaunchRefused


def prepare_job_kwargs(job, data, field_prefix=""):
    """Validate ``data`` with the Job's own form and return job_kwargs as Nautobot's REST run does."""
    job_class = job.job_class
    if job_class is None:
        raise LaunchRefused({"job": f"{field_prefix}Job '{job}' cannot be loaded."})
    if not isinstance(data, dict):
        raise LaunchRefused({"inputs": f"{field_prefix}inputs must be a JSON object."})
    data = with_variable_defaults(job_class, data)
    try:
        cleaned = validate_job_data(job_class, data)
        cleaned = job_class.prepare_job_kwargs(cleaned)
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            raise LaunchRefused(
                {
                    field: [f"{field_prefix}{message}" for message in messages]
                    for field, messages in error.message_dict.items()
                }
            ) from None
        raise LaunchRefused({"inputs": [f"{field_prefix}{message}" for message in error.messages]}) from None
    except Exception as error:
        raise LaunchRefused({"inputs": f"{field_prefix}{type(error).__name__}: {error}"}) from None
    return job_class.serialize_data(cleaned)


def with_variable_defaults(job_class, data):
    """``data`` with each omitted variable set to the Job variable's own default.

    A form treats a missing checkbox as unchecked, so without this a BooleanVar that defaults to true would run as
    false whenever a caller (a workflow step, a hook rule, the REST API) leaves it out.
    """
    filled = dict(data)
    for name, variable in job_class._get_vars().items():
        if name in filled or "initial" not in variable.field_attrs:
            continue
        default = variable.field_attrs["initial"]
        if callable(default):
            default = default()
        if hasattr(default, "pk"):  # an ObjectVar's default object
            default = str(default.pk)
        if isinstance(default, (bool, int, float, str, list, dict)):
            filled[name] = default
    return filled


def validate_job_data(job_class, data):
    """``job_class.validate_data(data)``: the Job's own form decides, with the same errors.

    Nautobot's ``as_form`` also looks the Job up in the database, only to set the dry-run checkbox's display
    default, which a bound form ignores; a Job that keeps Nautobot's ``validate_data`` and ``as_form`` is validated
    by its form class directly, without that query (a step launch in a workflow pays it on every step). A Job that
    overrides either is validated through its own override.
    """
    if job_class.validate_data.__func__ is not BaseJob.validate_data.__func__ or (
        job_class.as_form.__func__ is not BaseJob.as_form.__func__
    ):
        return job_class.validate_data(data)
    known = job_class._get_vars()
    for name in data:
        if name not in known:
            raise ValidationError({name: "Job data contained an unknown property"})
    form = job_class.as_form_class()(data=job_class.deserialize_data(data))
    if not form.is_valid():
        raise ValidationError(form.errors)
    return form.cleaned_data
