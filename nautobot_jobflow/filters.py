"""FilterSets of nautobot-jobflow (UI lists, REST API and GraphQL share them)."""

import django_filters
from django.contrib.auth import get_user_model
from nautobot.apps.filters import (
    BaseFilterSet,
    MultipleChoiceFilter,
    NaturalKeyOrPKMultipleChoiceFilter,
    NautobotFilterSet,
    RelatedMembershipBooleanFilter,
    SearchFilter,
)
from nautobot.extras.models import Job, JobResult

from nautobot_jobflow.choices import (
    ApprovalEventKindChoices,
    EdgeTriggerChoices,
    JoinModeChoices,
    LaunchOriginChoices,
    LaunchRequestStatusChoices,
    PolicyTargetChoices,
    StepRunStatusChoices,
    WorkflowRunStatusChoices,
)
from nautobot_jobflow.models import (
    ApprovalEvent,
    ApprovalPolicy,
    LaunchRequest,
    Workflow,
    WorkflowEdge,
    WorkflowRun,
    WorkflowStep,
    WorkflowStepRun,
)


class WorkflowFilterSet(NautobotFilterSet):
    """Filter workflows by name, state, tags and the Jobs their steps run."""

    q = SearchFilter(filter_predicates={"name": "icontains", "description": "icontains"})
    job = NaturalKeyOrPKMultipleChoiceFilter(
        field_name="steps__job",
        queryset=Job.objects.all(),
        to_field_name="name",
        label="Runs Job (ID or name)",
    )
    has_steps = RelatedMembershipBooleanFilter(field_name="steps", label="Has steps")
    has_runs = RelatedMembershipBooleanFilter(field_name="runs", label="Has runs")

    class Meta:
        model = Workflow
        fields = ["id", "name", "description", "enabled", "dryrun_mode", "tags", "created", "last_updated"]


class WorkflowStepFilterSet(BaseFilterSet):
    """Filter workflow steps."""

    q = SearchFilter(filter_predicates={"name": "icontains", "workflow__name": "icontains"})
    workflow = NaturalKeyOrPKMultipleChoiceFilter(queryset=Workflow.objects.all(), to_field_name="name")
    job = NaturalKeyOrPKMultipleChoiceFilter(queryset=Job.objects.all(), to_field_name="name")
    subworkflow = NaturalKeyOrPKMultipleChoiceFilter(queryset=Workflow.objects.all(), to_field_name="name")
    join_mode = MultipleChoiceFilter(choices=JoinModeChoices)

    class Meta:
        model = WorkflowStep
        fields = ["id", "name", "workflow", "job", "subworkflow", "join_mode", "max_retries", "timeout"]


class WorkflowEdgeFilterSet(BaseFilterSet):
    """Filter workflow edges."""

    q = SearchFilter(filter_predicates={"source__name": "icontains", "target__name": "icontains"})
    workflow = NaturalKeyOrPKMultipleChoiceFilter(queryset=Workflow.objects.all(), to_field_name="name")
    source = NaturalKeyOrPKMultipleChoiceFilter(queryset=WorkflowStep.objects.all(), to_field_name="name")
    target = NaturalKeyOrPKMultipleChoiceFilter(queryset=WorkflowStep.objects.all(), to_field_name="name")
    trigger = MultipleChoiceFilter(choices=EdgeTriggerChoices)

    class Meta:
        model = WorkflowEdge
        fields = ["id", "workflow", "source", "target", "trigger", "condition"]


class WorkflowRunFilterSet(BaseFilterSet):
    """Filter workflow runs by workflow, state, origin, dry run, user and time."""

    q = SearchFilter(filter_predicates={"workflow_name": "icontains", "error": "icontains"})
    workflow = NaturalKeyOrPKMultipleChoiceFilter(queryset=Workflow.objects.all(), to_field_name="name")
    status = MultipleChoiceFilter(choices=WorkflowRunStatusChoices)
    origin = MultipleChoiceFilter(choices=LaunchOriginChoices)
    user = NaturalKeyOrPKMultipleChoiceFilter(queryset=get_user_model().objects.all(), to_field_name="username")
    rerun_of = NaturalKeyOrPKMultipleChoiceFilter(queryset=WorkflowRun.objects.all(), to_field_name="id")
    has_parent = RelatedMembershipBooleanFilter(field_name="parent_step_run", label="Is a nested run")

    class Meta:
        model = WorkflowRun
        fields = ["id", "workflow", "workflow_name", "status", "origin", "dryrun", "user", "created", "finished"]


class WorkflowStepRunFilterSet(BaseFilterSet):
    """Filter the attempts of workflow steps."""

    q = SearchFilter(filter_predicates={"step_name": "icontains", "error": "icontains"})
    run = NaturalKeyOrPKMultipleChoiceFilter(queryset=WorkflowRun.objects.all(), to_field_name="id")
    status = MultipleChoiceFilter(choices=StepRunStatusChoices)
    job_result = NaturalKeyOrPKMultipleChoiceFilter(queryset=JobResult.objects.all(), to_field_name="id")

    class Meta:
        model = WorkflowStepRun
        fields = ["id", "run", "step_name", "attempt", "status", "job_result", "created"]


#
# Approval policies and launch requests
#


class ApprovalPolicyFilterSet(NautobotFilterSet):
    """Filter approval policies by name, state, what they cover and their stages."""

    q = SearchFilter(filter_predicates={"name": "icontains", "description": "icontains"})
    job = NaturalKeyOrPKMultipleChoiceFilter(
        field_name="jobs", queryset=Job.objects.all(), to_field_name="name", label="Covers Job (ID or name)"
    )
    workflow = NaturalKeyOrPKMultipleChoiceFilter(
        field_name="workflows", queryset=Workflow.objects.all(), to_field_name="name", label="Covers Workflow"
    )
    applies_to = MultipleChoiceFilter(choices=PolicyTargetChoices)

    class Meta:
        model = ApprovalPolicy
        fields = [
            "id",
            "name",
            "description",
            "enabled",
            "weight",
            "applies_to",
            "dryrun_exempt",
            "allow_self_approval",
            "require_preview",
            "approval_workflow_definition",
            "tags",
            "created",
            "last_updated",
        ]


class LaunchRequestFilterSet(NautobotFilterSet):
    """Filter launch requests; ``awaiting_me=true`` keeps those whose active stage the signed-in user may decide."""

    q = SearchFilter(
        filter_predicates={"target_name": "icontains", "user_name": "icontains", "policy_name": "icontains"}
    )
    status = MultipleChoiceFilter(choices=LaunchRequestStatusChoices)
    origin = MultipleChoiceFilter(choices=LaunchOriginChoices)
    policy = NaturalKeyOrPKMultipleChoiceFilter(queryset=ApprovalPolicy.objects.all(), to_field_name="name")
    job = NaturalKeyOrPKMultipleChoiceFilter(queryset=Job.objects.all(), to_field_name="name")
    workflow = NaturalKeyOrPKMultipleChoiceFilter(queryset=Workflow.objects.all(), to_field_name="name")
    workflow_run = django_filters.ModelMultipleChoiceFilter(queryset=WorkflowRun.objects.all())
    user = NaturalKeyOrPKMultipleChoiceFilter(queryset=get_user_model().objects.all(), to_field_name="username")
    awaiting_me = django_filters.BooleanFilter(method="filter_awaiting_me", label="Awaiting my decision")

    class Meta:
        model = LaunchRequest
        fields = ["id", "target_name", "user_name", "policy_name", "dryrun", "expires_at", "created", "last_updated"]

    def filter_awaiting_me(self, queryset, name, value):
        """Pending requests whose active stage's approver group includes the signed-in user (not their own)."""
        user = getattr(self.request, "user", None)
        if value is None or user is None or not user.is_authenticated:
            return queryset
        ids = LaunchRequest.objects.awaiting_decision_by(user)
        return queryset.filter(pk__in=ids) if value else queryset.exclude(pk__in=ids)


class ApprovalEventFilterSet(BaseFilterSet):
    """Filter the audit trail of launch requests."""

    request = django_filters.ModelMultipleChoiceFilter(queryset=LaunchRequest.objects.all())
    kind = MultipleChoiceFilter(choices=ApprovalEventKindChoices)

    class Meta:
        model = ApprovalEvent
        fields = ["id", "request", "kind", "user_name", "time"]


#
# Hook rules (issue 6)
#

from nautobot.apps.filters import ContentTypeMultipleChoiceFilter  # noqa: E402
from nautobot.extras.utils import ChangeLoggedModelsQuery  # noqa: E402

from nautobot_jobflow.choices import HookEventSourceChoices, HookFiringStatusChoices, HookWindowStatusChoices  # noqa: E402
from nautobot_jobflow.models import HookFiring, HookRule, HookWindow  # noqa: E402


class HookRuleFilterSet(NautobotFilterSet):
    """Filter hook rules by name, source, watched types, target and mode."""

    q = SearchFilter(filter_predicates={"name": "icontains", "description": "icontains"})
    event_source = MultipleChoiceFilter(choices=HookEventSourceChoices)
    content_types = ContentTypeMultipleChoiceFilter(choices=ChangeLoggedModelsQuery().get_choices)
    job = NaturalKeyOrPKMultipleChoiceFilter(queryset=Job.objects.all(), to_field_name="name", label="Job (ID or name)")
    workflow = NaturalKeyOrPKMultipleChoiceFilter(
        queryset=Workflow.objects.all(), to_field_name="name", label="Workflow (ID or name)"
    )
    owner = NaturalKeyOrPKMultipleChoiceFilter(queryset=get_user_model().objects.all(), to_field_name="username")
    has_firings = RelatedMembershipBooleanFilter(field_name="firings", label="Has fired")

    class Meta:
        model = HookRule
        fields = [
            "id",
            "name",
            "description",
            "enabled",
            "event_source",
            "content_types",
            "type_create",
            "type_update",
            "type_delete",
            "match",
            "job",
            "workflow",
            "debounce_seconds",
            "batch",
            "allow_one_level",
            "owner",
            "tags",
            "created",
            "last_updated",
        ]


class HookWindowFilterSet(BaseFilterSet):
    """Filter the debounce/batch windows of hook rules."""

    rule = NaturalKeyOrPKMultipleChoiceFilter(queryset=HookRule.objects.all(), to_field_name="name")
    status = MultipleChoiceFilter(choices=HookWindowStatusChoices)

    class Meta:
        model = HookWindow
        fields = ["id", "rule", "key", "status"]


class HookFiringFilterSet(BaseFilterSet):
    """Filter the firings of hook rules."""

    q = SearchFilter(filter_predicates={"object_repr": "icontains", "reason": "icontains", "rule__name": "icontains"})
    rule = NaturalKeyOrPKMultipleChoiceFilter(queryset=HookRule.objects.all(), to_field_name="name")
    status = MultipleChoiceFilter(choices=HookFiringStatusChoices)
    job_result = NaturalKeyOrPKMultipleChoiceFilter(queryset=JobResult.objects.all(), to_field_name="id")
    workflow_run = NaturalKeyOrPKMultipleChoiceFilter(queryset=WorkflowRun.objects.all(), to_field_name="id")

    class Meta:
        model = HookFiring
        fields = ["id", "rule", "status", "action", "changed_object_id", "request_id", "depth", "created"]
