"""ChoiceSets of nautobot-jobflow: run and step states, step kinds, edge triggers, launch origins."""

from nautobot.apps.choices import ChoiceSet


class LaunchOriginChoices(ChoiceSet):
    """Where a launch came from (approval policies and audit use it)."""

    UI = "ui"
    API = "api"
    SCHEDULE = "schedule"
    BUTTON = "button"
    HOOK = "hook"
    WORKFLOW = "workflow"

    CHOICES = (
        (UI, "UI"),
        (API, "API"),
        (SCHEDULE, "Schedule"),
        (BUTTON, "Button (job or workflow button)"),
        (HOOK, "Hook rule"),
        (WORKFLOW, "Workflow step"),
    )


class WorkflowRunStatusChoices(ChoiceSet):
    """Life cycle of a workflow run."""

    PENDING = "pending"
    AWAITING_APPROVAL = "awaiting-approval"
    AWAITING_INPUT = "awaiting-input"
    RUNNING = "running"
    PAUSED = "paused"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"

    CHOICES = (
        (PENDING, "Pending"),
        (AWAITING_APPROVAL, "Awaiting approval"),
        (AWAITING_INPUT, "Awaiting input"),
        (RUNNING, "Running"),
        (PAUSED, "Paused"),
        (SUCCEEDED, "Succeeded"),
        (FAILED, "Failed"),
        (CANCELED, "Canceled"),
    )
    ACTIVE = (PENDING, AWAITING_APPROVAL, AWAITING_INPUT, RUNNING, PAUSED)
    FINAL = (SUCCEEDED, FAILED, CANCELED)
    CSS_CLASSES = {
        PENDING: "secondary",
        AWAITING_APPROVAL: "warning",
        AWAITING_INPUT: "warning",
        RUNNING: "info",
        PAUSED: "warning",
        SUCCEEDED: "success",
        FAILED: "danger",
        CANCELED: "dark",
    }


class StepRunStatusChoices(ChoiceSet):
    """Life cycle of one attempt of one workflow step."""

    PENDING = "pending"
    AWAITING_APPROVAL = "awaiting-approval"
    AWAITING_INPUT = "awaiting-input"
    WAITING = "waiting"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELED = "canceled"
    TIMED_OUT = "timed-out"

    CHOICES = (
        (PENDING, "Pending"),
        (AWAITING_APPROVAL, "Awaiting approval"),
        (AWAITING_INPUT, "Awaiting input"),
        (WAITING, "Waiting for its concurrency key"),
        (RUNNING, "Running"),
        (SUCCEEDED, "Succeeded"),
        (FAILED, "Failed"),
        (SKIPPED, "Skipped"),
        (CANCELED, "Canceled"),
        (TIMED_OUT, "Timed out"),
    )
    ACTIVE = (PENDING, AWAITING_APPROVAL, AWAITING_INPUT, WAITING, RUNNING)
    FINAL = (SUCCEEDED, FAILED, SKIPPED, CANCELED, TIMED_OUT)
    FAILURES = (FAILED, TIMED_OUT)
    CSS_CLASSES = {
        PENDING: "secondary",
        AWAITING_APPROVAL: "warning",
        AWAITING_INPUT: "warning",
        WAITING: "warning",
        RUNNING: "info",
        SUCCEEDED: "success",
        FAILED: "danger",
        SKIPPED: "light",
        CANCELED: "dark",
        TIMED_OUT: "danger",
    }
    # Fill colours of the graph nodes.
    COLORS = {
        PENDING: "#e0e0e0",
        AWAITING_APPROVAL: "#ffe082",
        AWAITING_INPUT: "#b39ddb",
        WAITING: "#fff59d",
        RUNNING: "#90caf9",
        SUCCEEDED: "#a5d6a7",
        FAILED: "#ef9a9a",
        SKIPPED: "#f5f5f5",
        CANCELED: "#bdbdbd",
        TIMED_OUT: "#ffab91",
    }


class StepKindChoices(ChoiceSet):
    """What a workflow step does: run a Job, run another workflow, or wait for a person's answer."""

    JOB = "job"
    WORKFLOW = "workflow"
    INPUT = "input"

    CHOICES = (
        (JOB, "Job"),
        (WORKFLOW, "Nested workflow"),
        (INPUT, "Human input"),
    )


class EdgeTriggerChoices(ChoiceSet):
    """When an edge lets its target step start, given how its source step ended."""

    ON_SUCCESS = "on-success"
    ON_FAILURE = "on-failure"
    ALWAYS = "always"
    CONDITION = "condition"

    CHOICES = (
        (ON_SUCCESS, "On success"),
        (ON_FAILURE, "On failure"),
        (ALWAYS, "Always"),
        (CONDITION, "When condition is true"),
    )


class JoinModeChoices(ChoiceSet):
    """How a step with several incoming edges decides to start."""

    ALL = "all"
    ANY = "any"

    CHOICES = (
        (ALL, "All incoming edges fired"),
        (ANY, "Any incoming edge fired"),
    )


class DryRunModeChoices(ChoiceSet):
    """What a dry run of a workflow does with a step whose Job cannot dry-run."""

    SKIP = "skip"
    REFUSE = "refuse"

    CHOICES = (
        (SKIP, "Skip the step (logged)"),
        (REFUSE, "Refuse the dry run"),
    )


class PolicyTargetChoices(ChoiceSet):
    """What kind of launch an approval policy covers."""

    ALL = "all"
    JOBS = "jobs"
    WORKFLOWS = "workflows"

    CHOICES = (
        (ALL, "Jobs and Workflows"),
        (JOBS, "Jobs (including workflow steps)"),
        (WORKFLOWS, "Workflows"),
    )


class LaunchRequestStatusChoices(ChoiceSet):
    """Life cycle of a launch held for approval."""

    PENDING = "pending"
    LAUNCHED = "launched"
    DENIED = "denied"
    EXPIRED = "expired"
    CANCELED = "canceled"
    FAILED = "failed"

    CHOICES = (
        (PENDING, "Pending approval"),
        (LAUNCHED, "Approved and launched"),
        (DENIED, "Denied"),
        (EXPIRED, "Expired"),
        (CANCELED, "Canceled"),
        (FAILED, "Approved, launch failed"),
    )
    FINAL = (LAUNCHED, DENIED, EXPIRED, CANCELED, FAILED)
    CSS_CLASSES = {
        PENDING: "warning",
        LAUNCHED: "success",
        DENIED: "danger",
        EXPIRED: "secondary",
        CANCELED: "dark",
        FAILED: "danger",
    }


class ApprovalEventKindChoices(ChoiceSet):
    """Entries of a launch request's audit trail."""

    REQUESTED = "requested"
    PREVIEW = "preview"
    APPROVED = "approved"
    DENIED = "denied"
    COMMENT = "comment"
    REFUSED = "refused"
    EXPIRED = "expired"
    CANCELED = "canceled"
    LAUNCHED = "launched"
    FAILED = "failed"

    CHOICES = (
        (REQUESTED, "Requested"),
        (PREVIEW, "Preview started"),
        (APPROVED, "Approved"),
        (DENIED, "Denied"),
        (COMMENT, "Comment"),
        (REFUSED, "Response refused"),
        (EXPIRED, "Expired"),
        (CANCELED, "Canceled"),
        (LAUNCHED, "Launched"),
        (FAILED, "Launch failed"),
    )


#
# Hook rules (issue 6)
#


class HookEventSourceChoices(ChoiceSet):
    """What a hook rule listens to."""

    OBJECT_CHANGE = "object-change"
    JOB_COMPLETION = "job-completion"
    WORKFLOW_COMPLETION = "workflow-completion"

    CHOICES = (
        (OBJECT_CHANGE, "Object change"),
        (JOB_COMPLETION, "Job completion"),
        (WORKFLOW_COMPLETION, "Workflow completion"),
    )


class HookMatchChoices(ChoiceSet):
    """How a hook rule combines its conditions."""

    ALL = "all"
    ANY = "any"

    CHOICES = (
        (ALL, "All conditions"),
        (ANY, "Any condition"),
    )


class HookCompletionStatusChoices(ChoiceSet):
    """Final states a completion rule can wait for (a JobResult's or a WorkflowRun's, mapped to one vocabulary)."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"

    CHOICES = (
        (SUCCEEDED, "Succeeded"),
        (FAILED, "Failed"),
        (CANCELED, "Canceled"),
    )


class HookFiringStatusChoices(ChoiceSet):
    """What happened when a rule matched an event."""

    FIRED = "fired"
    AWAITING_APPROVAL = "awaiting-approval"
    SKIPPED = "skipped"
    FAILED = "failed"

    CHOICES = (
        (FIRED, "Fired"),
        (AWAITING_APPROVAL, "Awaiting approval"),
        (SKIPPED, "Skipped"),
        (FAILED, "Failed"),
    )
    CSS_CLASSES = {
        FIRED: "success",
        AWAITING_APPROVAL: "warning",
        SKIPPED: "secondary",
        FAILED: "danger",
    }


class HookWindowStatusChoices(ChoiceSet):
    """A debounce/batch window is open until it fires once."""

    OPEN = "open"
    FIRED = "fired"

    CHOICES = (
        (OPEN, "Open"),
        (FIRED, "Fired"),
    )
