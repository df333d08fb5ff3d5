"""Reading a hook rule or approval policy file: the YAML mapping, its keys, and references by name or natural key.

Every problem is a ValidationError keyed by the document's field, so the sync's log line names it.
"""

import yaml
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from nautobot.extras.models import Job

from nautobot_jobflow.models import Workflow


def load_mapping(text, allowed_keys):
    """The YAML document of one definition: a mapping with a ``name`` and only ``allowed_keys``."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ValidationError({"YAML": f"cannot be parsed: {error}"}) from None
    if not isinstance(document, dict):
        raise ValidationError({"YAML": "the document must be a mapping with at least a 'name'."})
    unknown = sorted(set(document) - set(allowed_keys))
    if unknown:
        raise ValidationError(
            {"YAML": f"unknown key(s) {', '.join(map(str, unknown))}; allowed: {', '.join(sorted(allowed_keys))}."}
        )
    if not document.get("name") or not isinstance(document["name"], str):
        raise ValidationError({"name": "a name (text) is required."})
    return document


def plain_values(model, document, fields):
    """The document's value of each field, or the field's default when the document leaves it out."""
    return {name: document.get(name, model._meta.get_field(name).get_default()) for name in fields}


def as_list(document, field):
    """A list-valued key (missing: empty)."""
    value = document.get(field) or []
    if not isinstance(value, list):
        raise ValidationError({field: "must be a list."})
    return value


def job_by_class_path(class_path, field):
    """The installed Job with this class path (``module.ClassName``)."""
    module_name, _, class_name = str(class_path).rpartition(".")
    job = Job.objects.filter(module_name=module_name, job_class_name=class_name).first()
    if job is None:
        raise ValidationError({field: f"no installed Job with class path '{class_path}'."})
    return job


def workflow_by_name(name, field):
    """The workflow with this name."""
    workflow = Workflow.objects.filter(name=str(name)).first()
    if workflow is None:
        raise ValidationError({field: f"no workflow named '{name}'."})
    return workflow


def content_type_by_label(label, field):
    """The content type ``app_label.model`` (e.g. ``dcim.device``)."""
    app_label, _, model = str(label).lower().partition(".")
    content_type = ContentType.objects.filter(app_label=app_label, model=model).first()
    if content_type is None:
        raise ValidationError({field: f"no object type '{label}' (write it as app_label.model, e.g. dcim.device)."})
    return content_type


def by_name(model, name, field):
    """The ``model`` row with this name (e.g. a core approval workflow definition)."""
    obj = model.objects.filter(name=str(name)).first()
    if obj is None:
        raise ValidationError({field: f"no {model._meta.verbose_name} named '{name}'."})
    return obj


def resolve_all(document, field, resolve):
    """Each reference of a list-valued key, resolved."""
    return [resolve(reference, field) for reference in as_list(document, field)]
