"""FilterSets of input steps: the answers given to them (the audit trail)."""

import django_filters
from django.contrib.auth import get_user_model
from nautobot.apps.filters import BaseFilterSet, NaturalKeyOrPKMultipleChoiceFilter, SearchFilter

from nautobot_jobflow.models import StepInputResponse, WorkflowRun, WorkflowStepRun


class StepInputResponseFilterSet(BaseFilterSet):
    """Filter the answers given to input steps by step run, run, responder and time."""

    q = SearchFilter(filter_predicates={"user_name": "icontains", "step_run__step_name": "icontains"})
    step_run = django_filters.ModelMultipleChoiceFilter(queryset=WorkflowStepRun.objects.all())
    run = django_filters.ModelMultipleChoiceFilter(field_name="step_run__run", queryset=WorkflowRun.objects.all())
    user = NaturalKeyOrPKMultipleChoiceFilter(queryset=get_user_model().objects.all(), to_field_name="username")

    class Meta:
        model = StepInputResponse
        fields = ["id", "step_run", "user", "user_name", "time"]
