"""Input steps in the UI: the answer form of a run's waiting step, and the "Awaiting my input" list."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.generic import TemplateView
from django_tables2 import RequestConfig
from nautobot.core.views.paginator import EnhancedPaginator, get_paginate_count
from rest_framework.decorators import action

from nautobot_jobflow.choices import StepRunStatusChoices
from nautobot_jobflow.details.input_steps import respond_url, waiting_items
from nautobot_jobflow.engine.input_steps import AnswerForbidden, AnswerRefused, awaiting_input_by, respond, step_spec
from nautobot_jobflow.input_forms import StepAnswerForm
from nautobot_jobflow.models import WorkflowStepRun
from nautobot_jobflow.tables import AwaitingInputTable
from nautobot_jobflow.views.common import add_launch_errors


def _answer_error_place(form):
    """Where a refused answer's messages go: ``answer`` parts naming a property on its field, the rest on top."""

    def place(key, message):
        if key == "answer":
            for part in message.split("; "):
                where = part.split(":", 1)[0].split(".", 1)[0]
                yield (form.field_name_for(where) if ":" in part else None), part
        else:
            yield None, message

    return place


class InputStepViewMixin:
    """The run view set's ``respond`` action: GET shows the run's waiting input steps, POST answers one of them."""

    @action(
        detail=True, url_path="respond", url_name="respond", methods=["get", "post"], custom_view_base_action="view"
    )
    def respond(self, request, *args, **kwargs):
        """Answer an input step of this run (who may answer is the engine's rule; refusals are shown on the form)."""
        run = self.get_object()
        forms = {}
        if request.method == "POST":
            step_run = _waiting_step_run(run, request.POST.get("step_run"))
            if step_run is None:
                messages.error(request, "That step of this run does not await input.")
                return redirect(run.get_absolute_url())
            spec = step_spec(run, step_run)
            form = StepAnswerForm(request.POST, schema=spec.get("answer_schema") or {}, step_run=step_run)
            if form.is_valid():
                try:
                    respond(step_run, request.user, form.get_answer())
                except AnswerForbidden as error:
                    form.add_error(None, str(error))
                except AnswerRefused as error:
                    add_launch_errors(form, error, _answer_error_place(form))
                else:
                    messages.success(request, f"Your answer to step '{step_run.step_name}' was recorded.")
                    return redirect(run.get_absolute_url())
            forms[step_run.pk] = form
        return render(
            request,
            "nautobot_jobflow/step_input.html",
            {"run": run, "object": run, "items": waiting_items(run, request.user, forms), "action": respond_url(run)},
        )


def _waiting_step_run(run, step_run_id):
    """The run's attempt ``step_run_id`` if it awaits input (None for a malformed id or another state)."""
    try:
        return run.step_runs.filter(pk=step_run_id, status=StepRunStatusChoices.AWAITING_INPUT).first()
    except (ValidationError, ValueError):
        return None


class AwaitingInputView(LoginRequiredMixin, TemplateView):
    """Input steps awaiting an answer the signed-in user may give now, in the step runs they may see."""

    template_name = "nautobot_jobflow/awaiting_input_list.html"

    def get_context_data(self, **kwargs):
        """The table of waiting steps, paginated as core's lists are."""
        context = super().get_context_data(**kwargs)
        user = self.request.user
        visible = WorkflowStepRun.objects.restrict(user, "view").select_related("run")
        table = AwaitingInputTable(awaiting_input_by(user, visible).order_by("started"), user=user)
        paginate = {"paginator_class": EnhancedPaginator, "per_page": get_paginate_count(self.request)}
        RequestConfig(self.request, paginate).configure(table)
        context.update(title="Awaiting my input", table=table)
        return context
