"""Table of the workflow buttons."""

import django_tables2 as tables
from nautobot.apps.tables import BaseTable, BooleanColumn, ButtonsColumn, ContentTypesColumn, TagColumn, ToggleColumn

from nautobot_jobflow.models import WorkflowButton


class WorkflowButtonTable(BaseTable):
    """Workflow buttons: where they appear and what they start."""

    pk = ToggleColumn()
    name = tables.Column(linkify=True)
    content_types = ContentTypesColumn(truncate_words=15, verbose_name="Object types")
    workflow = tables.Column(linkify=True)
    enabled = BooleanColumn()
    confirmation = BooleanColumn()
    tags = TagColumn(url_name="plugins:nautobot_jobflow:workflowbutton_list")
    actions = ButtonsColumn(WorkflowButton)

    class Meta(BaseTable.Meta):
        model = WorkflowButton
        fields = (
            "pk",
            "name",
            "content_types",
            "workflow",
            "text",
            "group_name",
            "weight",
            "button_class",
            "confirmation",
            "enabled",
            "tags",
            "actions",
        )
        default_columns = (
            "pk",
            "name",
            "content_types",
            "workflow",
            "group_name",
            "weight",
            "confirmation",
            "enabled",
            "actions",
        )
