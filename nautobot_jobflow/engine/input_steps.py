"""Answering input steps: who may answer, the answer's checks, its audit record, and the step's end.

An input step's attempt waits in "awaiting input" (see ``engine.input_wait``, called by the run's state machine)
until ``respond`` has recorded answers from ``min_responders`` different members of its responder group; then the
step succeeds with the answer as its result (with ``min_responders`` above 1, the list of answers in the order they
came) and the run advances. The rule is the approvals' one: membership of the group is required (superusers
included) and the user who started the run may answer only when the step allows it. Everything is read from the
run's frozen snapshot, so editing the workflow never changes who may answer a running step.
"""

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import CharField, Exists, F, Func, OuterRef, Q, Value
from django.utils import timezone

from nautobot_jobflow.choices import StepRunStatusChoices
from nautobot_jobflow.engine.input_wait import is_input_step
from nautobot_jobflow.engine.runner import advance_after_commit
from nautobot_jobflow.lib.json_schema import validate_against_schema
from nautobot_jobflow.models import StepInputResponse, WorkflowRun, WorkflowStepRun

AWAITING = StepRunStatusChoices.AWAITING_INPUT


class AnswerForbidden(PermissionDenied):
    """The user may not answer this input step (not in its responder group, or the run's requester)."""


class AnswerRefused(ValidationError):
    """The answer cannot be taken: the step no longer waits, the user already answered, or the answer is invalid."""


def step_spec(run, step_run):
    """The step's entry in the run's snapshot (empty when the snapshot has no such step)."""
    return (run.definition or {}).get("steps", {}).get(step_run.step_name, {})


def answer_problem(spec, answer):
    """None when ``answer`` is a JSON object valid against the step's answer schema, else a message naming the field."""
    if not isinstance(answer, dict):
        return "The answer must be a JSON object."
    schema = spec.get("answer_schema") or {}
    return validate_against_schema(schema, answer, root="(answer)") if schema else None


def response_problem(run, step_run, spec, user, now=None):
    """Why ``user`` may not answer ``step_run`` now, as the exception to raise; None when they may.

    ``AnswerForbidden`` when the user is not one who may answer, ``AnswerRefused`` when the step takes no answer from
    them any more. The answer itself is checked by ``answer_problem``.
    """
    name = step_run.step_name
    if not is_input_step(spec):
        return AnswerRefused({"status": f"Step '{name}' is not an input step; it takes no answers."})
    if step_run.status != AWAITING:
        state = step_run.get_status_display().lower()
        return AnswerRefused({"status": f"Step '{name}' is not awaiting input (it is {state})."})
    if user is None or not user.is_authenticated:
        return AnswerForbidden(f"Sign in to answer step '{name}'.")
    group_id = spec.get("responder_group")
    if not group_id or not user.groups.filter(pk=group_id).exists():
        group = spec.get("responder_group_name") or "(none)"
        return AnswerForbidden(f"Only members of group '{group}' may answer step '{name}'.")
    if user.pk == run.user_id and not spec.get("requester_may_answer"):
        return AnswerForbidden(f"The user who started the run may not answer its step '{name}'.")
    if step_run.input_responses.filter(user=user).exists():
        return AnswerRefused({"answer": f"You have already answered step '{name}'."})
    timeout = spec.get("timeout")
    now = now or timezone.now()
    if timeout and step_run.started and step_run.started + timedelta(seconds=timeout) <= now:
        return AnswerRefused({"status": f"Step '{name}' timed out after {timeout}s; it takes no more answers."})
    return None


def may_respond(run, step_run, user):
    """True when ``user`` may answer ``step_run`` now (what the run page asks before it shows the answer form)."""
    return response_problem(run, step_run, step_spec(run, step_run), user) is None


def respond(step_run, user, answer):
    """Record ``user``'s answer to an input step's attempt; the step succeeds once enough people answered.

    Under the run's row lock, as every change of a run's state, so two answers at the same moment count once each
    and a step never succeeds twice. Raises ``AnswerForbidden`` / ``AnswerRefused`` (see ``response_problem``;
    ``{"answer": "<field>: <message>"}`` for an answer the schema refuses), with nothing recorded. Returns the step
    run as saved.
    """
    with transaction.atomic():
        run = WorkflowRun.objects.select_for_update(of=("self",)).select_related("user").get(pk=step_run.run_id)
        step_run = WorkflowStepRun.objects.get(pk=step_run.pk)
        spec = step_spec(run, step_run)
        now = timezone.now()
        problem = response_problem(run, step_run, spec, user, now)
        if problem is not None:
            raise problem
        invalid = answer_problem(spec, answer)
        if invalid:
            raise AnswerRefused({"answer": invalid})
        StepInputResponse.objects.create(
            step_run=step_run, user=user, user_name=user.get_username(), time=now, answer=answer
        )
        answers = list(step_run.input_responses.order_by("time", "pk").values_list("answer", flat=True))
        needed = spec.get("min_responders") or 1
        if len(answers) >= needed:
            step_run.status = StepRunStatusChoices.SUCCEEDED
            step_run.result = answers[0] if needed == 1 else answers
            step_run.finished = now
            step_run.save(update_fields=["status", "result", "finished"])
            advance_after_commit(run.pk)
    return step_run


def _snapshot_value(key):
    """``run.definition -> 'steps' -> step_name -> key`` as text, in SQL (a step run's own entry of the snapshot)."""
    return Func(
        F("run__definition"),
        Value("steps"),
        F("step_name"),
        Value(key),
        function="jsonb_extract_path_text",
        output_field=CharField(),
    )


def awaiting_input_by(user, queryset=None):
    """Step runs awaiting an answer that ``user`` may give now, in one query (the "Awaiting my input" list).

    The same rule as ``response_problem``, in SQL: member of the step's responder group, not the run's requester
    unless the step allows it, not answered yet.
    """
    queryset = WorkflowStepRun.objects.all() if queryset is None else queryset
    if user is None or not user.is_authenticated:
        return queryset.none()
    group_ids = [str(pk) for pk in user.groups.values_list("pk", flat=True)]
    if not group_ids:
        return queryset.none()
    answered = StepInputResponse.objects.filter(step_run=OuterRef("pk"), user=user)
    return (
        queryset.filter(status=AWAITING)
        .annotate(jobflow_responders=_snapshot_value("responder_group"))
        .annotate(jobflow_requester_may=_snapshot_value("requester_may_answer"))
        .filter(jobflow_responders__in=group_ids)
        .filter(~Q(run__user=user) | Q(jobflow_requester_may="true"))
        .exclude(Exists(answered))
    )


def awaiting_steps(run):
    """The run's attempts that await input, with their answers so far (the run page's input panel)."""
    return list(
        run.step_runs.filter(status=AWAITING)
        .prefetch_related("input_responses")
        .order_by("created", "step_name", "attempt")
    )
