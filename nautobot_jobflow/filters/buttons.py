"""FilterSet of the workflow buttons."""

from nautobot.apps.filters import (
    ContentTypeMultipleChoiceFilter,
    MultipleChoiceFilter,
    NaturalKeyOrPKMultipleChoiceFilter,
    NautobotFilterSet,
    SearchFilter,
)
from nautobot.extras.choices import ButtonClassChoices
from nautobot.extras.utils import ChangeLoggedModelsQuery

from nautobot_jobflow.models import Workflow, WorkflowButton


class WorkflowButtonFilterSet(NautobotFilterSet):
    """Filter workflow buttons by name, object type, workflow, group and state."""

    q = SearchFilter(filter_predicates={"name": "icontains", "text": "icontains", "group_name": "icontains"})
    content_types = ContentTypeMultipleChoiceFilter(choices=ChangeLoggedModelsQuery().get_choices)
    workflow = NaturalKeyOrPKMultipleChoiceFilter(
        queryset=Workflow.objects.all(), to_field_name="name", label="Workflow (ID or name)"
    )
    button_class = MultipleChoiceFilter(choices=ButtonClassChoices)

    class Meta:
        model = WorkflowButton
        fields = [
            "id",
            "name",
            "text",
            "content_types",
            "workflow",
            "button_class",
            "group_name",
            "confirmation",
            "weight",
            "enabled",
            "tags",
            "created",
            "last_updated",
        ]
