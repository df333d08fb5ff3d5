"""Whether an approval policy covers a launch, and the checks a policy must pass to be saved.

``ApprovalPolicy.objects.find_for_launch()`` (models.approvals) picks the policy with these.
"""

import re

from django.contrib.contenttypes.models import ContentType
from nautobot.extras.models import Job

from nautobot_jobflow.choices import PolicyTargetChoices
from nautobot_jobflow.lib.object_filters import filtered, object_filter_problems
from nautobot_jobflow.lib.sandbox import leaves

LAUNCH_REQUEST_NATURAL_KEY = ("nautobot_jobflow", "launchrequest")
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def stage_problems(definition):
    """Why a core approval workflow definition cannot serve as a policy's stages (empty list: it can)."""
    problems = []
    content_type = definition.model_content_type
    if (content_type.app_label, content_type.model) != LAUNCH_REQUEST_NATURAL_KEY:
        problems.append(
            f"Approval workflow definition '{definition}' is for {definition.model_content_type}; "
            "choose one whose content type is nautobot_jobflow | launch request."
        )
        return problems
    stages = list(definition.approval_workflow_stage_definitions.select_related("approver_group").order_by("sequence"))
    if not stages:
        problems.append(f"Approval workflow definition '{definition}' has no stages; add at least one.")
    for stage in stages:
        members = stage.approver_group.user_set.filter(is_active=True).count()
        if stage.min_approvers < 1:
            problems.append(f"Stage '{stage.name}' needs at least one approver.")
        elif stage.min_approvers > members:
            problems.append(
                f"Stage '{stage.name}' needs {stage.min_approvers} approvers but group "
                f"'{stage.approver_group}' has {members} active member(s)."
            )
    return problems


def launch_request_content_type():
    """LaunchRequest's ContentType, looked up by natural key without ContentType's per-process id cache."""
    return ContentType.objects.get(app_label=LAUNCH_REQUEST_NATURAL_KEY[0], model=LAUNCH_REQUEST_NATURAL_KEY[1])


def object_filter_problem(content_type, object_filter):
    """Why ``object_filter`` is not a valid filter for ``content_type``'s objects (None: it is)."""
    if not isinstance(object_filter, dict):
        return "The object filter must be a JSON object of filter names to values."
    if not object_filter:
        return None
    if content_type is None:
        return "Set an object type to filter objects."
    model = content_type.model_class()
    if model is None:
        return f"Objects of type {content_type} are not installed."
    return "; ".join(object_filter_problems(model, object_filter)) or None


def uuid_strings(value):
    """Every string in ``value`` (nested lists/dicts) that looks like a UUID: candidate object references."""
    return {leaf for _, leaf in leaves(value, "") if isinstance(leaf, str) and UUID_RE.match(leaf)}


def matching_object_count(policy, inputs):
    """How many objects named in ``inputs`` are of the policy's type and pass its filter."""
    model = policy.object_content_type.model_class()
    candidates = uuid_strings(inputs)
    if model is None or not candidates:
        return 0
    queryset = model.objects.filter(pk__in=candidates)
    if policy.object_filter:
        queryset = filtered(model, policy.object_filter, queryset)
        if queryset is None:  # the filter stopped being valid (a renamed filter): it matches nothing
            return 0
    return queryset.count()


def policy_matches(policy, target, inputs, origin, dryrun):
    """True when ``policy`` covers this launch of ``target``."""
    if not policy.enabled or (dryrun and policy.dryrun_exempt) or not policy.covers_origin(origin):
        return False
    if isinstance(target, Job):
        if policy.applies_to == PolicyTargetChoices.WORKFLOWS:
            return False
        job_ids = {job.pk for job in policy.jobs.all()}
        if job_ids and target.pk not in job_ids:
            return False
    else:
        if policy.applies_to == PolicyTargetChoices.JOBS:
            return False
        workflow_ids = {workflow.pk for workflow in policy.workflows.all()}
        if workflow_ids and target.pk not in workflow_ids:
            return False
    if policy.object_content_type_id:
        count = matching_object_count(policy, inputs)
        if count == 0 or (policy.min_objects is not None and count <= policy.min_objects):
            return False
    return True
