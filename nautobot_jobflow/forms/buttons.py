"""Forms of the workflow buttons: editing (the input template as JSON for now), bulk edit and the list's filters."""

from django import forms
from nautobot.apps.forms import (
    BulkEditNullBooleanSelect,
    DynamicModelChoiceField,
    DynamicModelMultipleChoiceField,
    JSONField,
    MultipleContentTypeField,
    NautobotBulkEditForm,
    NautobotFilterForm,
    NautobotModelForm,
    StaticSelect2,
    TagFilterField,
    TagsBulkEditFormMixin,
    add_blank_choice,
)
from nautobot.extras.choices import ButtonClassChoices
from nautobot.extras.utils import ChangeLoggedModelsQuery

from nautobot_jobflow.forms.mixins import PlainModelHelpTextMixin
from nautobot_jobflow.models import Workflow, WorkflowButton


class WorkflowButtonForm(PlainModelHelpTextMixin, NautobotModelForm):
    """Create or edit a workflow button; the input template is checked against the workflow when saved."""

    content_types = MultipleContentTypeField(
        queryset=ChangeLoggedModelsQuery().as_queryset(), label="Object types", help_text="Pages the button is on."
    )
    workflow = DynamicModelChoiceField(queryset=Workflow.objects.all())
    input_template = JSONField(required=False, help_text=WorkflowButton._meta.get_field("input_template").help_text)

    class Meta:
        model = WorkflowButton
        fields = [
            "name",
            "content_types",
            "workflow",
            "input_template",
            "text",
            "button_class",
            "group_name",
            "weight",
            "confirmation",
            "enabled",
            "tags",
        ]

    def clean_input_template(self):
        """Empty means no inputs from the object."""
        value = self.cleaned_data.get("input_template")
        return {} if value in (None, "") else value


class WorkflowButtonBulkEditForm(TagsBulkEditFormMixin, NautobotBulkEditForm):
    """Enable, disable, regroup, reweigh or recolour many buttons (workflows and templates: one at a time)."""

    pk = forms.ModelMultipleChoiceField(queryset=WorkflowButton.objects.all(), widget=forms.MultipleHiddenInput)
    enabled = forms.NullBooleanField(required=False, widget=BulkEditNullBooleanSelect)
    confirmation = forms.NullBooleanField(required=False, widget=BulkEditNullBooleanSelect)
    group_name = forms.CharField(max_length=100, required=False)
    weight = forms.IntegerField(min_value=0, max_value=32767, required=False)
    button_class = forms.ChoiceField(
        choices=add_blank_choice(ButtonClassChoices), required=False, widget=StaticSelect2, label="Colour"
    )

    class Meta:
        nullable_fields = ["group_name"]


class WorkflowButtonFilterForm(NautobotFilterForm):
    """Filters of the workflow button list."""

    model = WorkflowButton
    field_order = ["q", "name", "enabled", "content_types", "workflow", "group_name", "tags"]
    q = forms.CharField(required=False, label="Search")
    name = forms.CharField(required=False)
    enabled = forms.NullBooleanField(required=False, widget=StaticSelect2(choices=BulkEditNullBooleanSelect().choices))
    content_types = MultipleContentTypeField(
        queryset=ChangeLoggedModelsQuery().as_queryset(), required=False, choices_as_strings=True, label="Object types"
    )
    workflow = DynamicModelMultipleChoiceField(queryset=Workflow.objects.all(), to_field_name="name", required=False)
    group_name = forms.CharField(required=False)
    tags = TagFilterField(model)
