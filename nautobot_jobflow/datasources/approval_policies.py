"""Approval policies from Git: ``jobflow/approval_policies/*.yaml``, one policy per file, keys named as its fields.

References: ``jobs`` by class path, ``workflows`` by name, ``object_content_type`` as ``app_label.model`` and
``approval_workflow_definition`` (the stages: a core approval workflow definition for launch requests, whose stages
name their approver groups) by name. The syncing user must be allowed to run every Job and Workflow the policy names.
"""

from django.core.exceptions import ValidationError
from nautobot.extras.models import ApprovalWorkflowDefinition

from nautobot_jobflow.datasources.documents import (
    by_name,
    content_type_by_label,
    job_by_class_path,
    load_mapping,
    plain_values,
    resolve_all,
    workflow_by_name,
)
from nautobot_jobflow.launching.permissions import check_targets_permitted
from nautobot_jobflow.lib.errors import LaunchForbidden
from nautobot_jobflow.models import ApprovalPolicy
from nautobot_jobflow.models.git_owned import claim, save_if_changed, set_if_changed

FIELDS = (
    "description",
    "enabled",
    "weight",
    "applies_to",
    "origins",
    "dryrun_exempt",
    "object_filter",
    "min_objects",
    "expiry_minutes",
    "allow_self_approval",
    "require_preview",
)
REFERENCES = ("jobs", "workflows", "object_content_type", "approval_workflow_definition")
KEYS = {"name", *FIELDS, *REFERENCES}


def parse(text):
    """The policy's YAML document."""
    return load_mapping(text, KEYS)


def _check_permitted(field, targets, user):
    try:
        check_targets_permitted(targets, user)
    except LaunchForbidden as error:
        raise ValidationError({field: f"the syncing user may not run what this policy covers: {error}"}) from None


def apply(document, repository, path, user):
    """Create or update the policy; returns (policy, created, changed)."""
    policy = claim(ApprovalPolicy, document["name"], repository)
    created = not policy.present_in_database
    if not document.get("approval_workflow_definition"):
        raise ValidationError(
            {"approval_workflow_definition": "required: the name of a core approval workflow definition."}
        )
    values = plain_values(ApprovalPolicy, document, FIELDS)
    values["approval_workflow_definition"] = by_name(
        ApprovalWorkflowDefinition, document["approval_workflow_definition"], "approval_workflow_definition"
    )
    values["object_content_type"] = (
        content_type_by_label(document["object_content_type"], "object_content_type")
        if document.get("object_content_type")
        else None
    )
    values.update(git_repository=repository, git_path=path)
    jobs = resolve_all(document, "jobs", job_by_class_path)
    workflows = resolve_all(document, "workflows", workflow_by_name)

    def validate(instance):
        instance.full_clean()
        _check_permitted("jobs", jobs, user)
        _check_permitted("workflows", workflows, user)

    changed = save_if_changed(policy, values, validate)
    changed = set_if_changed(policy.jobs, jobs) or changed
    changed = set_if_changed(policy.workflows, workflows) or changed
    return policy, created, changed
