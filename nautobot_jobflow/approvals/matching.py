"""Which approval policy, if any, covers a launch; and the checks a policy must pass to be saved."""

import re

from django.contrib.contenttypes.models import ContentType
from nautobot.core.utils.lookup import get_filterset_for_model
from nautobot.extras.models import Job

from nautobot_jobflow.choices import PolicyTargetChoices

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
    """Why ``object_filter`` is not a valid filter for ``content_type``'s FilterSet (None: it is)."""
    if not isinstance(object_filter, dict):
        return "The object filter must be a JSON object of filter names to values."
    if not object_filter:
        return None
    if content_type is None:
        return "Set an object type to filter objects."
    model = content_type.model_class()
    filterset_class = get_filterset_for_model(model) if model else None
    if filterset_class is None:
        return f"Objects of type {content_type} cannot be filtered."
    unknown = sorted(set(object_filter) - set(filterset_class.base_filters))
    if unknown:
        return f"Unknown filter(s) for {content_type}: {', '.join(unknown)}."
    filterset = filterset_class(object_filter, queryset=model.objects.none())
    if not filterset.is_valid():
        return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in filterset.errors.items())
    return None


def _uuid_strings(value, found):
    """Every string in ``value`` (nested lists/dicts) that looks like a UUID: candidate object references."""
    if isinstance(value, str):
        if UUID_RE.match(value):
            found.add(value)
    elif isinstance(value, dict):
        for item in value.values():
            _uuid_strings(item, found)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _uuid_strings(item, found)
    return found


def matching_object_count(policy, inputs):
    """How many objects named in ``inputs`` are of the policy's type and pass its filter."""
    model = policy.object_content_type.model_class()
    candidates = _uuid_strings(inputs, set())
    if model is None or not candidates:
        return 0
    queryset = model.objects.filter(pk__in=candidates)
    if policy.object_filter:
        queryset = get_filterset_for_model(model)(policy.object_filter, queryset=queryset).qs
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


def enabled_policies():
    """Enabled policies, highest weight first, with what matching reads prefetched (one round of queries)."""
    from nautobot_jobflow.models import ApprovalPolicy

    return list(
        ApprovalPolicy.objects.filter(enabled=True)
        .select_related("object_content_type", "approval_workflow_definition")
        .prefetch_related("jobs", "workflows")
        .order_by("-weight", "name")
    )


def find_policy(target, inputs, origin, dryrun, policies=None):
    """The highest-weight enabled policy that covers this launch, or None."""
    for policy in enabled_policies() if policies is None else policies:
        if policy_matches(policy, target, inputs, origin, dryrun):
            return policy
    return None
