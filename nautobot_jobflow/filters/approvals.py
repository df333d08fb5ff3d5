"""FilterSets of the approvals: policies, launch requests (with ``awaiting_me``) and their audit trail."""

import django_filters
from django.contrib.auth import get_user_model
from nautobot.apps.filters import (
    BaseFilterSet,
    MultipleChoiceFilter,
    NaturalKeyOrPKMultipleChoiceFilter,
    NautobotFilterSet,
    SearchFilter,
)
from nautobot.extras.models import Job

from nautobot_jobflow.choices import (
    ApprovalEventKindChoices,
    LaunchOriginChoices,
    LaunchRequestStatusChoices,
    PolicyTargetChoices,
)
from nautobot_jobflow.models import ApprovalEvent, ApprovalPolicy, LaunchRequest, Workflow, WorkflowRun


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
