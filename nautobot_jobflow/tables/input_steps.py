"""Tables of input steps: the steps awaiting the signed-in user's answer, and the answers given (the audit)."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from nautobot.apps.tables import BaseTable

from nautobot_jobflow.models import StepInputResponse, WorkflowStepRun


class AwaitingInputTable(BaseTable):
    """Input steps awaiting an answer: the run, the step, its prompt and a link to the answer form."""

    run = tables.Column(linkify=True, verbose_name="Run")
    step_name = tables.Column(verbose_name="Step")
    prompt = tables.Column(accessor="rendered_inputs", verbose_name="Prompt", orderable=False)
    started = tables.DateTimeColumn(verbose_name="Waiting since")
    answer = tables.Column(accessor="pk", verbose_name="", orderable=False)

    class Meta(BaseTable.Meta):
        model = WorkflowStepRun
        fields = ("run", "step_name", "prompt", "started", "answer")
        default_columns = fields

    def render_prompt(self, value):
        """The rendered prompt of the attempt."""
        return (value or {}).get("prompt") or "—"

    def render_answer(self, record):
        """A link to the step's answer form."""
        url = reverse("plugins:nautobot_jobflow:workflowrun_respond", kwargs={"pk": record.run_id})
        return format_html('<a class="btn btn-sm btn-primary" href="{}?step_run={}">Answer</a>', url, record.pk)


class StepInputResponseTable(BaseTable):
    """Answers given to input steps: who, when, what."""

    step_run = tables.Column(verbose_name="Step attempt")
    user_name = tables.Column(verbose_name="Responder")
    time = tables.DateTimeColumn()
    answer = tables.TemplateColumn(template_code="<code>{{ value }}</code>", orderable=False)

    class Meta(BaseTable.Meta):
        model = StepInputResponse
        fields = ("step_run", "user_name", "time", "answer")
        default_columns = fields
