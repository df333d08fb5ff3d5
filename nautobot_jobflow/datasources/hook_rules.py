"""Hook rules from Git: ``jobflow/hook_rules/*.yaml``, one rule per file, keys named as the rule's fields.

References: ``job`` and ``completion_jobs`` by class path, ``workflow`` and ``completion_workflows`` by name,
``content_types`` as ``app_label.model``. The rule is checked as the UI checks it (the model's clean(), condition paths
and object filter against the watched types) and the syncing user must be allowed to run its target.
"""

from django.core.exceptions import ValidationError
from nautobot.extras.utils import ChangeLoggedModelsQuery

from nautobot_jobflow.datasources.documents import (
    content_type_by_label,
    job_by_class_path,
    load_mapping,
    plain_values,
    resolve_all,
    workflow_by_name,
)
from nautobot_jobflow.launching.permissions import check_target_permission
from nautobot_jobflow.models import HookRule
from nautobot_jobflow.models.git_owned import claim, save_if_changed, set_if_changed
from nautobot_jobflow.models.hook_rule_checks import validate_for_content_types

FIELDS = (
    "description",
    "enabled",
    "event_source",
    "type_create",
    "type_update",
    "type_delete",
    "match",
    "conditions",
    "object_filter",
    "completion_statuses",
    "input_template",
    "debounce_seconds",
    "batch",
    "allow_one_level",
)
REFERENCES = ("job", "workflow", "content_types", "completion_jobs", "completion_workflows")
KEYS = {"name", *FIELDS, *REFERENCES}


def parse(text):
    """The rule's YAML document."""
    return load_mapping(text, KEYS)


def _change_logged(content_type, field):
    if not ChangeLoggedModelsQuery().as_queryset().filter(pk=content_type.pk).exists():
        raise ValidationError({field: f"'{content_type.app_label}.{content_type.model}' is not a change-logged type."})
    return content_type


def apply(document, repository, path, user):
    """Create or update the rule; returns (rule, created, changed)."""
    rule = claim(HookRule, document["name"], repository)
    created = not rule.present_in_database
    values = plain_values(HookRule, document, FIELDS)
    values["job"] = job_by_class_path(document["job"], "job") if document.get("job") else None
    values["workflow"] = workflow_by_name(document["workflow"], "workflow") if document.get("workflow") else None
    values.update(git_repository=repository, git_path=path)
    if created:
        values["owner"] = user
    content_types = [
        _change_logged(content_type, "content_types")
        for content_type in resolve_all(document, "content_types", content_type_by_label)
    ]
    completion_jobs = resolve_all(document, "completion_jobs", job_by_class_path)
    completion_workflows = resolve_all(document, "completion_workflows", workflow_by_name)

    def validate(instance):
        instance.full_clean()
        validate_for_content_types(instance, content_types)
        check_target_permission(instance, user)

    changed = save_if_changed(rule, values, validate)
    changed = set_if_changed(rule.content_types, content_types) or changed
    changed = set_if_changed(rule.completion_jobs, completion_jobs) or changed
    changed = set_if_changed(rule.completion_workflows, completion_workflows) or changed
    return rule, created, changed
