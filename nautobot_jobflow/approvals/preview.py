"""What approvers see of a request's dry-run preview: its state and its log lines."""

from dataclasses import dataclass, field

from nautobot.extras.choices import JobResultStatusChoices
from nautobot.extras.models import JobLogEntry

from nautobot_jobflow.choices import WorkflowRunStatusChoices

MAX_LINES = 300


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
        step_runs = {sr.job_result_id: sr.step_name for sr in run.step_runs.exclude(job_result=None)}
        entries = (
            JobLogEntry.objects.filter(job_result_id__in=list(step_runs)).order_by("created")[: MAX_LINES + 1]
            if step_runs
            else []
        )
        lines = [(step_runs.get(entry.job_result_id, ""), entry.log_level, entry.message) for entry in entries]
        skipped = run.step_runs.filter(status="skipped")
        lines += [(sr.step_name, "info", sr.error) for sr in skipped]
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
