"""The one way into a run: every entry point (UI, REST, job or workflow button, schedule, hook rule) calls ``launch()``.

``launch`` checks that the user may run every Job it would start, validates the inputs, consults the approval
policies and starts: a Job through ``launching.jobs`` (the app's one ``JobResult.enqueue_job``), a Workflow through
``engine.control.start_workflow`` (the same function the engine uses for nested runs and reruns). When a policy
covers the launch nothing starts: a LaunchRequest waits for approval (``approvals.decisions`` starts it once).
"""

from nautobot.extras.models import Job

from nautobot_jobflow.choices import LaunchOriginChoices
from nautobot_jobflow.engine.control import start_workflow
from nautobot_jobflow.launching.jobs import launch_job
from nautobot_jobflow.lib.errors import LaunchRefused
from nautobot_jobflow.models import Workflow


def launch(target, inputs, user, origin, dryrun=False):
    """Start a Job or a Workflow for ``user`` (or hold it for approval); returns a LaunchOutcome.

    Raises LaunchForbidden when the user may not run a Job it would start, LaunchRefused (a ValidationError naming
    the field) for bad inputs or a disabled target.
    """
    if origin not in LaunchOriginChoices.values():
        raise ValueError(f"Unknown launch origin {origin!r}")
    inputs = {} if inputs is None else inputs
    if not isinstance(inputs, dict):
        raise LaunchRefused({"inputs": "Inputs must be a JSON object."})
    if isinstance(target, Job):
        return launch_job(target, inputs, user, origin, dryrun)
    if isinstance(target, Workflow):
        return start_workflow(target, inputs, user, origin, dryrun)
    raise TypeError(f"launch() takes a Job or a Workflow, not {type(target).__name__}")
