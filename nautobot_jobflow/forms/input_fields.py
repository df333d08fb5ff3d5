"""One form field per input of a target: a Job's own variables (their own widgets) or a workflow's schema properties.

Used by the forms that store the inputs they pass to a target (a workflow step's ``input_templates``, a hook rule's
``input_template``) through :mod:`nautobot_jobflow.forms.target_inputs`. Values are stored as JSON: an object by its
id (a string), several objects as a list of ids, IP addresses and networks as text.
"""

import json
from dataclasses import dataclass, field
from uuid import UUID

import netaddr
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.forms.utils import pretty_name
from nautobot.extras.jobs import FileVar
from nautobot.extras.models import Job

from nautobot_jobflow.input_forms import field_for_property
from nautobot_jobflow.models.workflow_checks import refuse_sensitive_job

BLANK_CHOICE = ("", "---------")


@dataclass
class InputSpec:
    """One input of a target and the form field that edits its value.

    ``field`` is not required at the form's level (a template may stand in for the value); ``required`` says whether
    the target needs the input, which the form checks itself. ``to_initial`` turns a stored value into the field's
    initial value (the identity, or ``json.dumps`` for a schema's enum).
    """

    name: str
    label: str
    field: forms.Field
    required: bool = False
    help_text: str = ""
    multiple: bool = False  # several values (objects or choices): a list, in any order
    to_initial: object = None
    help_is_html: bool = False  # a Job's descriptions are its code's (HTML, as Nautobot shows them); schemas' are data

    def initial_for(self, value):
        """The field's initial value for a stored JSON value."""
        return self.to_initial(value) if self.to_initial else value


@dataclass
class TargetSpecs:
    """What a target takes: its inputs in order, and notes for the user (skipped inputs, why there are none)."""

    specs: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    # False when no fields can be offered (no target, code not installed, refused Job, schema without properties):
    # then the JSON is all there is.
    usable: bool = False


def to_json(value):
    """A cleaned form value as JSON data: objects by id (a string), querysets as lists of ids, addresses as text."""
    if isinstance(value, QuerySet):
        return [str(pk) for pk in value.values_list("pk", flat=True)]
    if isinstance(value, Model):
        return str(value.pk)
    if isinstance(value, (netaddr.IPAddress, netaddr.IPNetwork, UUID)):
        return str(value)
    if isinstance(value, dict):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [to_json(item) for item in value]
    return value


def is_empty(spec, value):
    """True for a value the target gets anyway when the input is left out (empty text, no object, unticked)."""
    if value is None or value == "":
        return True
    if spec.multiple:
        return not value
    # A checkbox left unticked gives False, as a missing value does; a yes/no select's "no" is a choice.
    return is_checkbox(spec.field) and value is False


def is_checkbox(form_field):
    """A yes/no field whose unticked state is False (not a Yes/No/blank select)."""
    return isinstance(form_field, forms.BooleanField) and not isinstance(form_field, forms.NullBooleanField)


def shows(spec, value):
    """True when the field shows the stored ``value`` and gives back exactly it (as JSON) when the form is saved."""
    try:
        cleaned = spec.field.clean(spec.field.prepare_value(spec.initial_for(value)))
    except (ValidationError, TypeError, ValueError):
        return False
    return same_value(to_json(cleaned), value, unordered=spec.multiple)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def same_value(new, old, unordered=False):
    """True when two JSON values are the same input (``5`` and ``5.0`` are; ``true`` and ``1`` are not).

    ``unordered``: lists compare as sets (the ids of a multi-object picker come back in the model's order).
    """
    if _is_number(new) and _is_number(old):
        return new == old
    if unordered and isinstance(new, list) and isinstance(old, list):
        new, old = sorted(map(_dump, new)), sorted(map(_dump, old))
    return _dump(new) == _dump(old)


def _dump(value):
    return json.dumps(value, sort_keys=True, default=str)


def style(form_field):
    """Nautobot's classes on a widget (the fields are added after BootstrapMixin styled the form's own fields)."""
    widget = form_field.widget
    css = widget.attrs.get("class", "")
    wanted = "form-check-input" if isinstance(widget, (forms.CheckboxInput, forms.RadioSelect)) else "form-control"
    if wanted not in css.split():
        widget.attrs["class"] = f"{css} {wanted}".strip()
    return form_field


def _point_references(form_field, prefix, names):
    """Query parameters that name another variable (``"$location"``) name that variable's field (``$input__location``).

    Nautobot's select2 code reads ``$name`` as the value of the form field ``#id_name``; in these forms a variable's
    field is ``<prefix><name>``.
    """
    attrs = form_field.widget.attrs
    for key in [key for key in attrs if key.startswith("data-query-param-")]:
        values = json.loads(attrs[key])
        attrs[key] = json.dumps(
            [f"${prefix}{value[1:]}" if value.startswith("$") and value[1:] in names else value for value in values],
            ensure_ascii=False,
        )


def job_specs(job, prefix, reserved=(), where="a workflow step"):
    """The inputs of a Job: one field per variable, as Nautobot's run form builds them (``ScriptVariable.as_field``).

    File variables are skipped (a stored input cannot hold a file) and so are ``reserved`` names (the engine sets
    them); both are named in the notes. A Job with sensitive variables, or whose code is not installed, gets none.
    """
    try:
        refuse_sensitive_job(job, "job", where)
    except ValidationError as error:
        return TargetSpecs(notes=error.message_dict["job"])
    job_class = job.job_class
    if job_class is None:
        return TargetSpecs(notes=[f"The code of Job '{job}' cannot be loaded: its inputs can only be edited as JSON."])
    variables = job_class._get_vars()
    result = TargetSpecs(usable=True)
    for name, variable in variables.items():
        if name in reserved:
            result.notes.append(f"'{name}' is not set here: the run's dry-run flag sets it.")
            continue
        if isinstance(variable, FileVar):
            result.notes.append(f"'{name}' is a file, which stored inputs cannot hold; the Job gets no file.")
            continue
        form_field = style(variable.as_field())
        _point_references(form_field, prefix, variables)
        static_choice = isinstance(form_field, forms.ChoiceField) and not isinstance(
            form_field, (forms.MultipleChoiceField, forms.ModelChoiceField)
        )
        if static_choice and not any(value == "" for value, _ in form_field.choices):
            form_field.choices = [BLANK_CHOICE, *form_field.choices]
        required = form_field.required
        form_field.required = False
        result.specs.append(
            InputSpec(
                name=name,
                label=str(form_field.label or pretty_name(name)),
                field=form_field,
                required=required,
                help_text=str(form_field.help_text or ""),
                help_is_html=True,
                multiple=isinstance(form_field, (forms.ModelMultipleChoiceField, forms.MultipleChoiceField)),
            )
        )
        form_field.help_text = ""
    return result


def workflow_specs(workflow):
    """The inputs of a workflow: one field per property of its input schema (as its run form builds them).

    Nothing is pre-filled: an input left out takes the workflow's default input when it runs, which the help text
    shows. A yes/no property is a Yes/No/blank select, so that "no" can be stored where the default is "yes".
    """
    schema = workflow.input_schema if isinstance(workflow.input_schema, dict) else {}
    properties = schema.get("properties")
    if not isinstance(properties, dict) or not properties:
        return TargetSpecs(notes=[f"Workflow '{workflow}' has no input schema properties: edit its inputs as JSON."])
    required = set(schema.get("required") or [])
    defaults = workflow.default_inputs if isinstance(workflow.default_inputs, dict) else {}
    result = TargetSpecs(usable=True)
    for name, prop in properties.items():
        prop = prop if isinstance(prop, dict) else {}
        form_field = field_for_property(name, prop, False, None)
        to_initial = None
        if isinstance(form_field, forms.BooleanField):
            form_field = forms.NullBooleanField(label=form_field.label, required=False)
            form_field.widget.choices = [("unknown", "---------"), ("true", "Yes"), ("false", "No")]
        elif isinstance(form_field, forms.TypedChoiceField):
            to_initial = json.dumps
            if not any(value == "" for value, _ in form_field.choices):
                form_field.choices = [BLANK_CHOICE, *form_field.choices]
        default = defaults.get(name, prop.get("default"))
        help_text = str(form_field.help_text or "")
        if default is not None:
            help_text = f"{help_text} Default: {json.dumps(default)}.".strip()
        form_field.help_text = ""
        result.specs.append(
            InputSpec(
                name=name,
                label=str(form_field.label or name),
                field=style(form_field),
                required=name in required and name not in defaults,
                help_text=help_text,
                to_initial=to_initial,
            )
        )
    return result


def target_specs(target, prefix, reserved=(), where="a workflow step"):
    """The inputs of a Job or a Workflow (no target: none)."""
    if target is None:
        return TargetSpecs()
    return job_specs(target, prefix, reserved, where) if isinstance(target, Job) else workflow_specs(target)
