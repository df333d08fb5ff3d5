"""FilterSets of the hook rules: rules, their debounce/batch windows and their firings."""

from django.contrib.auth import get_user_model
from nautobot.apps.filters import (
    BaseFilterSet,
    ContentTypeMultipleChoiceFilter,
    MultipleChoiceFilter,
    NaturalKeyOrPKMultipleChoiceFilter,
    NautobotFilterSet,
    RelatedMembershipBooleanFilter,
    SearchFilter,
)
from nautobot.extras.models import Job, JobResult
from nautobot.extras.utils import ChangeLoggedModelsQuery

from nautobot_jobflow.choices import HookEventSourceChoices, HookFiringStatusChoices, HookWindowStatusChoices
from nautobot_jobflow.models import HookFiring, HookRule, HookWindow, Workflow, WorkflowRun


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
