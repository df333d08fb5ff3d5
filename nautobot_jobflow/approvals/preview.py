"""What approvers see of a request's dry-run preview: its state and its log lines."""

from dataclasses import dataclass, field

from nautobot.extras.choices import JobResultStatusChoices
from nautobot.extras.models import JobLogEntry

from nautobot_jobflow.choices import StepRunStatusChoices, WorkflowRunStatusChoices
from nautobot_jobflow.models import WorkflowRun, WorkflowStepRun

MAX_LINES = 300
MAX_NESTED_LEVELS = 10  # nested runs followed below the preview run (two queries a level)
NESTED = " / "  # between a nested step's name and the name of the step that ran its workflow


@dataclass
class PreviewView:
    """The preview of one request, ready for a template or an API answer."""

    exists: bool
    note: str = ""
    finished: bool = False
    status: str = ""
    link: str = ""
    label: str = ""
    lines: list = field(default_factory=list)  # (step or "", level, message)
    truncated: bool = False


def preview_for(request):
    """Summarise the request's preview: a dry-run JobResult, or a dry-run workflow run and its steps' logs."""
    if request.preview_job_result_id:
        job_result = request.preview_job_result
        entries = JobLogEntry.objects.filter(job_result=job_result).order_by("created")[: MAX_LINES + 1]
        lines = [("", entry.log_level, entry.message) for entry in entries]
        return PreviewView(
            exists=True,
            finished=job_result.status in JobResultStatusChoices.READY_STATES,
            status=job_result.status,
            link=job_result.get_absolute_url(),
            label=f"Dry-run JobResult {job_result.pk}",
            lines=lines[:MAX_LINES],
            truncated=len(lines) > MAX_LINES,
        )
    if request.preview_run_id:
        run = request.preview_run
        step_runs = _step_runs_with_nested(run)
        labels = {sr.job_result_id: label for sr, label in step_runs if sr.job_result_id}
        entries = (
            JobLogEntry.objects.filter(job_result_id__in=list(labels)).order_by("created")[: MAX_LINES + 1]
            if labels
            else []
        )
        lines = [(labels.get(entry.job_result_id, ""), entry.log_level, entry.message) for entry in entries]
        lines += [(label, "info", sr.error) for sr, label in step_runs if sr.status == StepRunStatusChoices.SKIPPED]
        return PreviewView(
            exists=True,
            finished=run.status in WorkflowRunStatusChoices.FINAL,
            status=run.status,
            link=run.get_absolute_url(),
            label=f"Dry-run workflow run {run.pk}",
            lines=lines[:MAX_LINES],
            truncated=len(lines) > MAX_LINES,
        )
    return PreviewView(exists=False, note=request.preview_note or "No preview exists for this request.")


def _step_runs_with_nested(run):
    """(step attempt, label) of the run's attempts and of its nested runs', level by level, in the order they began.

    A nested attempt's label is the path of step names (``audit / backup``), so approvers see the preview of the
    nested workflow that does the work, not only the step that started it.
    """
    found = []
    prefixes = {run.pk: ""}  # run id → label prefix of its steps
    for _ in range(MAX_NESTED_LEVELS):
        if not prefixes:
            break
        level = list(
            WorkflowStepRun.objects.filter(run_id__in=list(prefixes))
            .only("pk", "run_id", "step_name", "status", "error", "job_result_id", "created")
            .order_by("created")
        )
        found += [(step_run, prefixes[step_run.run_id] + step_run.step_name) for step_run in level]
        parents = {step_run.pk: prefixes[step_run.run_id] + step_run.step_name + NESTED for step_run in level}
        children = WorkflowRun.objects.filter(parent_step_run_id__in=list(parents)).values_list(
            "pk", "parent_step_run_id"
        )
        prefixes = {child: parents[parent] for child, parent in children}
    return found
