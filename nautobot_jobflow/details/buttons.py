"""Detail layout of the workflow buttons: where they appear, what they start, and with which inputs."""

from nautobot.apps.ui import ObjectDetailContent, ObjectFieldsPanel, SectionChoices

from nautobot_jobflow.details.common import pretty_json

workflow_button = ObjectDetailContent(
    panels=(
        ObjectFieldsPanel(
            weight=100,
            section=SectionChoices.LEFT_HALF,
            fields=[
                "name",
                "content_types",
                "workflow",
                "text",
                "button_class",
                "group_name",
                "weight",
                "confirmation",
                "enabled",
            ],
        ),
        ObjectFieldsPanel(
            weight=200,
            section=SectionChoices.RIGHT_HALF,
            label="Inputs",
            fields=["input_template"],
            value_transforms={"input_template": [pretty_json]},
        ),
    ),
)
