"""Detail layout of the hook rules: definition, conditions and inputs, recent firings with links to their runs."""

from nautobot.apps.ui import (
    Button,
    ButtonColorChoices,
    ObjectDetailContent,
    ObjectFieldsPanel,
    ObjectsTablePanel,
    SectionChoices,
)
from nautobot.core.templatetags import helpers

from nautobot_jobflow import tables
from nautobot_jobflow.choices import HookCompletionStatusChoices
from nautobot_jobflow.details.common import linked_objects, pretty_json


def _status_labels(statuses):
    """Completion states by label ("Failed, Succeeded") rather than as a JSON list."""
    labels = dict(HookCompletionStatusChoices.CHOICES)
    return ", ".join(labels.get(status, status) for status in statuses) if statuses else helpers.placeholder(None)


hook_rule = ObjectDetailContent(
    panels=(
        ObjectFieldsPanel(
            weight=100,
            section=SectionChoices.LEFT_HALF,
            fields=[
                "name",
                "description",
                "enabled",
                "event_source",
                "content_types",
                "type_create",
                "type_update",
                "type_delete",
                "completion_jobs",
                "completion_workflows",
                "completion_statuses",
                "job",
                "workflow",
                "debounce_seconds",
                "batch",
                "allow_one_level",
                "owner",
                "git_repository",
                "git_path",
            ],
            hide_if_unset=["git_repository", "git_path"],
            value_transforms={
                "completion_jobs": [linked_objects()],
                "completion_workflows": [linked_objects()],
                "completion_statuses": [_status_labels],
            },
        ),
        ObjectFieldsPanel(
            weight=200,
            section=SectionChoices.RIGHT_HALF,
            label="Conditions and inputs",
            fields=["match", "conditions", "object_filter", "input_template"],
            value_transforms={
                "conditions": [pretty_json],
                "object_filter": [pretty_json],
                "input_template": [pretty_json],
            },
        ),
        ObjectsTablePanel(
            weight=300,
            section=SectionChoices.FULL_WIDTH,
            table_class=tables.HookFiringTable,
            table_filter="rule",
            table_title="Recent firings",
            select_related_fields=["user", "job_result", "workflow_run", "rule"],
            exclude_columns=["rule"],
            add_button_route=None,
            max_display_count=20,
            paginate=False,
            enable_related_link=False,
        ),
    ),
    extra_buttons=(
        Button(
            weight=100,
            label="Test rule",
            icon="mdi-flask-outline",
            color=ButtonColorChoices.BLUE,
            link_name="plugins:nautobot_jobflow:hookrule_test",
            required_permissions=["nautobot_jobflow.view_hookrule"],
        ),
    ),
)
