"""Input steps under the run's row lock: an attempt that waits for people instead of running a Job.

``RunState`` (engine.run_state) calls these where it would start a Job: the attempt goes to "awaiting input" with
its prompt rendered, and the step's timeout counts from then, checked by the same delayed advance and reconciler
pass as a Job's. Answers come in through ``engine.input_steps.respond``. This module imports neither of those two
(they import it), so the state machine and the answering path share it without an import cycle.
"""

from nautobot_jobflow.choices import StepKindChoices, StepRunStatusChoices
from nautobot_jobflow.engine.step_launch import StepSkipped
from nautobot_jobflow.lib.errors import LaunchRefused
from nautobot_jobflow.lib.sandbox import TemplateProblem, render_value


def is_input_step(spec):
    """True for a step of the kind "input" in a run's snapshot (snapshots older than input steps have no kind)."""
    return spec.get("kind") == StepKindChoices.INPUT


def begin_waiting(run, spec, step_run, context):
    """Start an input step's attempt: status "awaiting input", the rendered prompt in ``rendered_inputs``.

    Nothing is saved here (the caller stores the step run with its launch fields). Raises ``StepSkipped`` in an
    approval preview (a dry-run copy that nobody answers) and ``LaunchRefused`` naming the prompt when it does not
    render; the caller ends the attempt with them as it does for a Job that cannot start.
    """
    if run.is_preview:
        raise StepSkipped("Skipped in this approval preview: an input step waits for people's answers.")
    try:
        prompt = render_value(spec.get("prompt") or "", context, "prompt")
    except TemplateProblem as problem:
        raise LaunchRefused({"prompt": str(problem)}) from None
    step_run.rendered_inputs = {"prompt": str(prompt)}
    step_run.status = StepRunStatusChoices.AWAITING_INPUT


def timeout_error(name, spec):
    """The error of an input step's attempt that got too few answers before its timeout."""
    needed = spec.get("min_responders") or 1
    answers = "an answer" if needed == 1 else f"{needed} answers"
    return f"Step '{name}' did not get {answers} within its timeout of {spec['timeout']}s."


def run_waits_for(step_runs):
    """(awaiting approval, awaiting input): whether any of these latest attempts waits for a decision or an answer."""
    statuses = {step_run.status for step_run in step_runs}
    return StepRunStatusChoices.AWAITING_APPROVAL in statuses, StepRunStatusChoices.AWAITING_INPUT in statuses
