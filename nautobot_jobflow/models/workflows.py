"""Workflow models: a Workflow is a DAG of steps (Jobs, nested Workflows, human input); runs record every attempt."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from nautobot.apps.models import BaseModel, ChangeLoggedModel, PrimaryModel, extras_features

from nautobot_jobflow.choices import (
    DryRunModeChoices,
    EdgeTriggerChoices,
    JoinModeChoices,
    LaunchOriginChoices,
    StepKindChoices,
    StepRunStatusChoices,
    WorkflowRunStatusChoices,
)
from nautobot_jobflow.lib.json_schema import schema_errors, validate_against_schema
from nautobot_jobflow.models.git_owned import GitOwnedModel
from nautobot_jobflow.models.workflow_checks import validate_edge, validate_outputs, validate_step

MAX_RETRIES = 10
MAX_FOR_EACH_CONCURRENCY = 1000
MAX_TIMEOUT = 7 * 24 * 3600
MAX_RESPONDERS = 100


@extras_features("custom_fields", "custom_links", "export_templates", "graphql", "relationships", "webhooks")
class Workflow(PrimaryModel, GitOwnedModel):
    """Jobs composed into a directed acyclic graph; every step runs as a real Nautobot Job."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=255, blank=True)
    enabled = models.BooleanField(default=True, help_text="Disabled workflows cannot be launched.")
    input_schema = models.JSONField(
        default=dict, blank=True, help_text="JSON Schema that the run inputs must satisfy (empty: any object)."
    )
    default_inputs = models.JSONField(default=dict, blank=True, help_text="Inputs used where a launch gives none.")
    dryrun_mode = models.CharField(
        max_length=20,
        choices=DryRunModeChoices,
        default=DryRunModeChoices.SKIP,
        verbose_name="Dry-run mode",
        help_text="What a dry run does with a step whose Job cannot dry-run.",
    )
    output_templates = models.JSONField(
        default=dict,
        blank=True,
        verbose_name="Outputs",
        help_text="Output name to a literal or a Jinja2 template over inputs and steps.<name>.result; a succeeded "
        "run stores them as its result (empty: the result of every step by name).",
    )

    natural_key_field_names = ["name"]

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        """Validate the input schema and the default inputs against it."""
        super().clean()
        if not isinstance(self.input_schema, dict):
            raise ValidationError({"input_schema": "The input schema must be a JSON object."})
        if not isinstance(self.default_inputs, dict):
            raise ValidationError({"default_inputs": "Default inputs must be a JSON object."})
        problem = schema_errors(self.input_schema)
        if problem:
            raise ValidationError({"input_schema": problem})
        validate_outputs(self.output_templates)
        if self.default_inputs and self.input_schema:
            problem = validate_against_schema(self.input_schema, self.default_inputs, partial=True)
            if problem:
                raise ValidationError({"default_inputs": problem})


@extras_features("graphql", "webhooks")
class WorkflowStep(BaseModel, ChangeLoggedModel):
    """One node of a workflow: a Job (or a nested Workflow) with templates that produce its inputs, or an input step.

    An input step (``kind`` "input") runs nothing: it waits until enough members of its responder group answered its
    prompt (an answer valid against ``answer_schema``), or until its timeout. A Job or nested-workflow step's kind
    follows the target it is given.
    """

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="steps")
    name = models.CharField(
        max_length=100, help_text="Unique within the workflow; templates refer to it as steps.<name>."
    )
    kind = models.CharField(
        max_length=20,
        choices=StepKindChoices,
        default=StepKindChoices.JOB,
        help_text="A Job, a nested workflow (both set from the target chosen), or human input (waits for an answer).",
    )
    job = models.ForeignKey(
        "extras.Job", on_delete=models.PROTECT, null=True, blank=True, related_name="jobflow_workflow_steps"
    )
    subworkflow = models.ForeignKey(
        Workflow,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="parent_steps",
        help_text="Run this workflow as the step (instead of a Job).",
    )
    input_templates = models.JSONField(
        default=dict,
        blank=True,
        help_text="Job variable name to a literal or a Jinja2 template over inputs and steps.<name>.result/status.",
    )
    join_mode = models.CharField(max_length=10, choices=JoinModeChoices, default=JoinModeChoices.ALL)
    max_retries = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(MAX_RETRIES)])
    retry_backoff = models.PositiveIntegerField(
        default=0, help_text="Seconds before the first retry; doubled for each further retry."
    )
    timeout = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_TIMEOUT)],
        help_text="Seconds; an attempt still running after this is stopped and marked timed out.",
    )
    job_queue = models.ForeignKey(
        "extras.JobQueue", on_delete=models.SET_NULL, null=True, blank=True, related_name="jobflow_workflow_steps"
    )
    for_each = models.JSONField(
        null=True,
        blank=True,
        verbose_name="For each",
        help_text='Run the Job once per item: a template that yields a list (e.g. "{{ steps.report.result.devices '
        '}}"), or an object query {"model": "dcim.device", "filter": {"location": ["AMS-DC1"]}}. Templates see '
        "item and index.",
    )
    concurrency = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_FOR_EACH_CONCURRENCY)],
        help_text="For each: at most this many items run at once, across all workers (empty: all at once).",
    )
    max_failures = models.PositiveIntegerField(
        default=0, help_text="For each: failed items tolerated before the step fails."
    )
    concurrency_key = models.CharField(
        max_length=255,
        blank=True,
        help_text="Attempts whose key (a template, e.g. device-{{ item.id }}) is the same never run more than "
        "'key limit' at a time, across all runs and workers; the others wait in arrival order.",
    )
    concurrency_limit = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_FOR_EACH_CONCURRENCY)],
        verbose_name="Key limit",
        help_text="How many attempts with the same concurrency key may run at once.",
    )
    # Input steps (kind "input")
    prompt = models.TextField(
        blank=True, help_text="Input steps: what the responders are asked (may use templates, as input templates do)."
    )
    answer_schema = models.JSONField(
        default=dict,
        blank=True,
        help_text="Input steps: JSON Schema of the answer, a JSON object (the answer form is generated from it).",
    )
    responder_group = models.ForeignKey(
        "auth.Group",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="jobflow_input_steps",
        help_text="Input steps: members of this group may answer.",
    )
    min_responders = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_RESPONDERS)],
        help_text="Input steps: the step succeeds when this many different people answered.",
    )
    requester_may_answer = models.BooleanField(
        default=False, help_text="Input steps: the user who started the run may answer too."
    )

    natural_key_field_names = ["workflow", "name"]

    class Meta:
        ordering = ["workflow", "name"]
        constraints = [models.UniqueConstraint(fields=["workflow", "name"], name="jobflow_step_unique_name")]

    def __str__(self):
        return f"{self.workflow}: {self.name}"

    @property
    def target_label(self):
        """What the step runs, for tables and graphs."""
        if self.kind == StepKindChoices.INPUT:
            return "Input"
        if self.subworkflow_id:
            return f"Workflow {self.subworkflow}"
        return str(self.job) if self.job_id else "—"

    def get_absolute_url(self, api=False):
        """A step is shown on its workflow's page."""
        if api:
            return reverse("plugins-api:nautobot_jobflow-api:workflowstep-detail", kwargs={"pk": self.pk})
        return reverse("plugins:nautobot_jobflow:workflow", kwargs={"pk": self.workflow_id})

    def derive_kind(self):
        """A step that is not an input step is a Job or a nested-workflow step, from the target it is given."""
        if self.kind != StepKindChoices.INPUT:
            nested = bool(self.subworkflow_id and not self.job_id)
            self.kind = StepKindChoices.WORKFLOW if nested else StepKindChoices.JOB

    def clean(self):
        """A step runs exactly one Job or one other workflow, or waits for input; its templates must parse."""
        super().clean()
        self.derive_kind()
        validate_step(self)

    def save(self, *args, **kwargs):
        """Keep ``kind`` in step with the target of Job and nested-workflow steps."""
        self.derive_kind()
        super().save(*args, **kwargs)


@extras_features("graphql", "webhooks")
class WorkflowEdge(BaseModel, ChangeLoggedModel):
    """A dependency between two steps, with the trigger that lets the target start."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="edges")
    source = models.ForeignKey(WorkflowStep, on_delete=models.CASCADE, related_name="outgoing_edges")
    target = models.ForeignKey(WorkflowStep, on_delete=models.CASCADE, related_name="incoming_edges")
    trigger = models.CharField(max_length=20, choices=EdgeTriggerChoices, default=EdgeTriggerChoices.ON_SUCCESS)
    condition = models.TextField(
        blank=True,
        help_text="Jinja2 expression over inputs and steps.<name>.result/status; used with the 'condition' trigger.",
    )

    class Meta:
        ordering = ["workflow", "source__name", "target__name"]
        constraints = [models.UniqueConstraint(fields=["source", "target"], name="jobflow_edge_unique_pair")]

    def __str__(self):
        return f"{self.source.name} → {self.target.name} ({self.get_trigger_display()})"

    def get_absolute_url(self, api=False):
        """An edge is shown on its workflow's page."""
        if api:
            return reverse("plugins-api:nautobot_jobflow-api:workflowedge-detail", kwargs={"pk": self.pk})
        return reverse("plugins:nautobot_jobflow:workflow", kwargs={"pk": self.workflow_id})

    def clean(self):
        """Both ends in this workflow, no self-loop, no cycle, a valid condition where one is needed."""
        super().clean()
        validate_edge(self)


@extras_features("graphql", "webhooks", "export_templates")
class WorkflowRun(BaseModel):
    """One execution of a workflow, against a frozen snapshot of its definition."""

    workflow = models.ForeignKey(Workflow, on_delete=models.SET_NULL, null=True, blank=True, related_name="runs")
    workflow_name = models.CharField(max_length=100, help_text="Name of the workflow when the run started.")
    status = models.CharField(
        max_length=20, choices=WorkflowRunStatusChoices, default=WorkflowRunStatusChoices.PENDING, db_index=True
    )
    inputs = models.JSONField(default=dict, blank=True)
    dryrun = models.BooleanField(default=False, verbose_name="Dry run")
    is_preview = models.BooleanField(
        default=False, verbose_name="Approval preview", help_text="A dry run started for approvers of a request."
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="jobflow_runs"
    )
    origin = models.CharField(max_length=20, choices=LaunchOriginChoices, default=LaunchOriginChoices.UI)
    parent_step_run = models.ForeignKey(
        "WorkflowStepRun", on_delete=models.CASCADE, null=True, blank=True, related_name="child_runs"
    )
    rerun_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="reruns", verbose_name="Rerun of"
    )
    definition = models.JSONField(default=dict, help_text="Snapshot of the workflow definition this run executes.")
    result = models.JSONField(
        null=True, blank=True, help_text="A succeeded run's outputs (the workflow's output templates, rendered)."
    )
    error = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)

    # Runs have no natural key of their own; without this, Nautobot's ?sort= (which appends the natural key as a
    # tie-breaker) answers 500 on the run and step-run lists (found by tests/test_api_fuzz.py).
    natural_key_field_names = ["pk"]

    class Meta:
        ordering = ["-created"]

    def __str__(self):
        return f"{self.workflow_name} run {self.created:%Y-%m-%d %H:%M:%S}" if self.created else self.workflow_name

    @property
    def is_active(self):
        """True until the run reaches a final state."""
        return self.status in WorkflowRunStatusChoices.ACTIVE

    def get_status_class(self):
        """Bootstrap colour of the status badge."""
        return WorkflowRunStatusChoices.CSS_CLASSES.get(self.status, "secondary")


@extras_features("graphql")
class WorkflowStepRun(BaseModel):
    """One attempt of one step in a run; its Job runs as a real JobResult."""

    run = models.ForeignKey(WorkflowRun, on_delete=models.CASCADE, related_name="step_runs")
    step_name = models.CharField(max_length=100)
    item_index = models.PositiveIntegerField(
        null=True, blank=True, help_text="For each: which item this attempt runs (empty: the step itself)."
    )
    attempt = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(
        max_length=20, choices=StepRunStatusChoices, default=StepRunStatusChoices.PENDING, db_index=True
    )
    job_result = models.ForeignKey(
        "extras.JobResult", on_delete=models.SET_NULL, null=True, blank=True, related_name="jobflow_step_runs"
    )
    rendered_inputs = models.JSONField(default=dict, blank=True)
    result = models.JSONField(null=True, blank=True, help_text="Copy of the Job's result (or the nested run's).")
    item = models.JSONField(null=True, blank=True, help_text="For each: the item this attempt runs.")
    items = models.JSONField(null=True, blank=True, help_text="For each: the items of the step, in order.")
    progress = models.JSONField(
        null=True,
        blank=True,
        help_text="For each: how many items started, succeeded and failed (and each item's status).",
    )
    reused_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", help_text="Rerun: result kept."
    )
    error = models.TextField(blank=True)
    not_before = models.DateTimeField(null=True, blank=True, help_text="A retry waits until this time.")
    concurrency_key = models.CharField(
        max_length=255,
        blank=True,
        db_index=True,
        help_text="The rendered concurrency key this attempt holds or waits for.",
    )
    waiting_since = models.DateTimeField(
        null=True, blank=True, help_text="When this attempt began to wait for its concurrency key (arrival order)."
    )
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "created", "step_name", "item_index", "attempt"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "step_name", "item_index", "attempt"],
                name="jobflow_steprun_unique_attempt",
                nulls_distinct=False,  # a step's own row (no item) is unique per attempt too
            )
        ]
        indexes = [models.Index(fields=["run", "step_name", "item_index"], name="jobflow_steprun_items")]

    def __str__(self):
        if self.item_index is not None:
            return f"{self.step_name}[{self.item_index}] #{self.attempt}"
        return f"{self.step_name} #{self.attempt}"

    def get_absolute_url(self, api=False):
        """A step run is shown on its run's page."""
        if api:
            return reverse("plugins-api:nautobot_jobflow-api:workflowsteprun-detail", kwargs={"pk": self.pk})
        return reverse("plugins:nautobot_jobflow:workflowrun", kwargs={"pk": self.run_id})

    @property
    def is_final(self):
        """True when this attempt is over."""
        return self.status in StepRunStatusChoices.FINAL

    def get_status_class(self):
        """Bootstrap colour of the status badge."""
        return StepRunStatusChoices.CSS_CLASSES.get(self.status, "secondary")
