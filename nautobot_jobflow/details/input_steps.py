"""The run page's "Awaiting input" panel: each waiting input step's prompt, its answers so far, and the answer form.

The form (generated from the step's answer schema) is shown only to a user who may answer now, as decided by the
engine's rule (``engine.input_steps.may_respond``); it posts to the run's ``respond`` view.
"""

from datetime import timedelta

from django.template.loader import render_to_string
from django.urls import reverse
from nautobot.apps.ui import Panel, SectionChoices

from nautobot_jobflow.choices import WorkflowRunStatusChoices
from nautobot_jobflow.engine.input_steps import awaiting_steps, may_respond, step_spec
from nautobot_jobflow.input_forms import StepAnswerForm

# A run shows "awaiting approval" first when a step awaits approval while another awaits input.
WAITING_RUN_STATES = (WorkflowRunStatusChoices.AWAITING_INPUT, WorkflowRunStatusChoices.AWAITING_APPROVAL)


def waiting_items(run, user, forms=None):
    """What the panel shows per waiting input step; ``forms``: bound forms by step run id (a refused answer)."""
    items = []
    for step_run in awaiting_steps(run):
        spec = step_spec(run, step_run)
        responses = list(step_run.input_responses.all())
        form = (forms or {}).get(step_run.pk)
        if form is None and may_respond(run, step_run, user):
            form = StepAnswerForm(schema=spec.get("answer_schema") or {}, step_run=step_run)
        timeout = spec.get("timeout")
        items.append(
            {
                "step_run": step_run,
                "prompt": (step_run.rendered_inputs or {}).get("prompt") or spec.get("prompt") or "",
                "group": spec.get("responder_group_name"),
                "needed": spec.get("min_responders") or 1,
                "responses": responses,
                "requester_may_answer": bool(spec.get("requester_may_answer")),
                "deadline": step_run.started + timedelta(seconds=timeout) if timeout and step_run.started else None,
                "form": form,
            }
        )
    return items


def respond_url(run):
    """Where the answer forms of ``run`` post."""
    return reverse("plugins:nautobot_jobflow:workflowrun_respond", kwargs={"pk": run.pk})


class AwaitingInputPanel(Panel):
    """The input steps of a run that wait for answers (shown only while the run waits)."""

    label = "Awaiting input"
    section = SectionChoices.FULL_WIDTH
    css_class = "warning"

    def should_render(self, context):
        """Only on a run that waits (no query for other runs)."""
        run = context.get("object")
        return super().should_render(context) and getattr(run, "status", None) in WAITING_RUN_STATES

    def render_body_content(self, context):
        """One block per waiting step: prompt, answers so far, the form for a user who may answer."""
        run = context["object"]
        request = context.get("request")
        items = waiting_items(run, getattr(request, "user", None))
        return render_to_string(
            "nautobot_jobflow/inc/awaiting_input.html",
            {"items": items, "action": respond_url(run), "run": run},
            request=request,
        )
