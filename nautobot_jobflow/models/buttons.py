"""Workflow buttons: a button on the detail pages of chosen object types that launches a workflow for the object.

The button's input template maps the workflow's input names to literals or Jinja2 templates over ``object`` (the
object whose page the button is on) and ``user`` (the username of who presses it). Rendering it is
``WorkflowButton.render_inputs``; pressing it is the view's (``views/buttons.py``), which launches through the one
launch service with origin *button*.
"""

import json

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from nautobot.apps.models import PrimaryModel, extras_features
from nautobot.extras.choices import ButtonClassChoices
from nautobot.extras.utils import ChangeLoggedModelsQuery

from nautobot_jobflow.lib.sandbox import TemplateProblem, check_syntax, render_mapping
from nautobot_jobflow.models.input_checks import template_name_problems, unknown_inputs_problem

TEMPLATE_NAMES = {"object", "user"}


@extras_features("custom_fields", "custom_links", "export_templates", "graphql", "relationships", "webhooks")
class WorkflowButton(PrimaryModel):
    """A button on the pages of the chosen object types that starts a workflow with inputs taken from the object."""

    name = models.CharField(max_length=100, unique=True)
    content_types = models.ManyToManyField(
        to=ContentType,
        related_name="jobflow_workflow_buttons",
        limit_choices_to=ChangeLoggedModelsQuery,
        verbose_name="Object types",
        help_text="The object types on whose detail pages the button appears.",
    )
    workflow = models.ForeignKey(
        "nautobot_jobflow.Workflow",
        on_delete=models.PROTECT,
        related_name="buttons",
        help_text="The workflow the button starts.",
    )
    input_template = models.JSONField(
        default=dict,
        blank=True,
        help_text='Workflow input name to a literal or a Jinja2 template over object and user, e.g. {"device": '
        '"{{ object.id }}"}. An object itself becomes its ID.',
    )
    text = models.CharField(
        max_length=100, blank=True, help_text="The button's label (plain text); empty: the button's name."
    )
    button_class = models.CharField(
        max_length=30, choices=ButtonClassChoices, default=ButtonClassChoices.CLASS_DEFAULT, verbose_name="Colour"
    )
    group_name = models.CharField(
        max_length=100,
        blank=True,
        help_text="Buttons with the same group appear as one dropdown menu (with the colour of the lightest one).",
    )
    confirmation = models.BooleanField(default=True, help_text="Ask for confirmation before starting the workflow.")
    weight = models.PositiveSmallIntegerField(default=100, help_text="Lighter buttons come first.")
    enabled = models.BooleanField(default=True, help_text="Disabled buttons are not shown.")

    natural_key_field_names = ["name"]

    class Meta:
        ordering = ["group_name", "weight", "name"]

    def __str__(self):
        return self.name

    @property
    def label(self):
        """What the button says."""
        return self.text or self.name

    @property
    def button_class_css_class(self):
        """The Bootstrap colour class (core's "default" is "secondary" in Nautobot 3's UI)."""
        if self.button_class == ButtonClassChoices.CLASS_DEFAULT:
            return "secondary"
        return self.button_class

    def clean(self):
        """The input template must parse, use only ``object`` and ``user``, and name inputs the workflow takes."""
        super().clean()
        templates = self.input_template
        if not isinstance(templates, dict):
            raise ValidationError({"input_template": "The input template is a JSON object: input name to value."})
        try:
            check_syntax(templates, "input_template")
        except TemplateProblem as problem:
            raise ValidationError({"input_template": str(problem)}) from None
        problems = template_name_problems(templates, "input_template", TEMPLATE_NAMES, "a workflow button's templates")
        unknown_inputs = unknown_inputs_problem(self.workflow, templates) if self.workflow_id else None
        if unknown_inputs:
            problems.append(unknown_inputs)
        if problems:
            raise ValidationError({"input_template": problems})

    def render_inputs(self, obj, user):
        """The workflow inputs for a press of the button on ``obj`` by ``user``: the rendered template as JSON values.

        Raises TemplateProblem naming the input. The templates see the object itself (``object.location.name``
        works); whatever they do to the database is rolled back, so a template cannot change data.
        """
        context = {"object": obj, "user": user.get_username() if user is not None else ""}
        with transaction.atomic():
            try:
                rendered = render_mapping(self.input_template, context)
            finally:
                transaction.set_rollback(True)
        return {name: _json_value(value, f"input_template.{name}") for name, value in rendered.items()}


class _InputEncoder(DjangoJSONEncoder):
    """JSON for rendered inputs: an object becomes its ID, a queryset the list of IDs (UUIDs, dates as Django's)."""

    def default(self, o):
        """Objects and querysets first, then Django's types."""
        if isinstance(o, models.Model):
            return str(o.pk)
        if isinstance(o, (models.QuerySet, models.Manager)):
            return [str(pk) for pk in o.all().values_list("pk", flat=True)]
        return super().default(o)


def _json_value(value, label):
    """``value`` as plain JSON data (what a workflow run stores and its schema checks)."""
    try:
        return json.loads(json.dumps(value, cls=_InputEncoder))
    except (TypeError, ValueError) as error:
        raise TemplateProblem(f"template {label} gave a value that is not JSON data: {error}") from None
