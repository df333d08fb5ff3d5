"""FilterSets of the workflows: workflows, their steps and edges, runs and step attempts."""

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
    EdgeTriggerChoices,
    JoinModeChoices,
    LaunchOriginChoices,
    StepKindChoices,
    StepRunStatusChoices,
    WorkflowRunStatusChoices,
)
from nautobot_jobflow.engine.input_steps import awaiting_input_by
from nautobot_jobflow.models import Workflow, WorkflowEdge, WorkflowRun, WorkflowStep, WorkflowStepRun


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
    kind = MultipleChoiceFilter(choices=StepKindChoices)

    class Meta:
        model = WorkflowStep
        fields = ["id", "name", "workflow", "kind", "job", "subworkflow", "join_mode", "max_retries", "timeout"]


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
    """Filter the attempts of workflow steps; ``awaiting_my_input=true``: input steps the signed-in user may answer."""

    q = SearchFilter(filter_predicates={"step_name": "icontains", "error": "icontains"})
    run = NaturalKeyOrPKMultipleChoiceFilter(queryset=WorkflowRun.objects.all(), to_field_name="id")
    status = MultipleChoiceFilter(choices=StepRunStatusChoices)
    job_result = NaturalKeyOrPKMultipleChoiceFilter(queryset=JobResult.objects.all(), to_field_name="id")
    awaiting_my_input = django_filters.BooleanFilter(method="filter_awaiting_my_input", label="Awaiting my input")

    class Meta:
        model = WorkflowStepRun
        fields = ["id", "run", "step_name", "attempt", "status", "job_result", "created"]

    def filter_awaiting_my_input(self, queryset, name, value):
        """Input steps awaiting an answer the signed-in user may give now (engine.input_steps.awaiting_input_by)."""
        user = getattr(self.request, "user", None)
        if value is None or user is None or not user.is_authenticated:
            return queryset
        mine = awaiting_input_by(user).values("pk")
        return queryset.filter(pk__in=mine) if value else queryset.exclude(pk__in=mine)
