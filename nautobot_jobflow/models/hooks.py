"""Hook rules: run a Job or Workflow when objects change (or runs finish), only when conditions match.

``HookRule`` is the definition; ``HookWindow`` is an open debounce/batch window (one row per rule and group, in the
database, so no process holds it) and ``HookWindowEvent`` its changes (one row per object); ``HookFiring`` records
every time a rule matched and what came of it.
"""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MaxValueValidator
from django.db import models
from django.urls import reverse
from nautobot.apps.models import BaseModel, PrimaryModel, extras_features
from nautobot.extras.utils import ChangeLoggedModelsQuery

from nautobot_jobflow.choices import (
    HookCompletionStatusChoices,
    HookEventSourceChoices,
    HookFiringStatusChoices,
    HookMatchChoices,
    HookWindowStatusChoices,
)
from nautobot_jobflow.models.git_owned import GitOwnedModel
from nautobot_jobflow.models.hook_rule_checks import validate_rule

MAX_DEBOUNCE_SECONDS = 24 * 3600


@extras_features("custom_fields", "custom_links", "export_templates", "graphql", "relationships", "webhooks")
class HookRule(PrimaryModel, GitOwnedModel):
    """When objects of the chosen types change (or Job/Workflow runs end) and the conditions match, run a target."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=255, blank=True)
    enabled = models.BooleanField(default=True)
    event_source = models.CharField(
        max_length=30,
        choices=HookEventSourceChoices,
        default=HookEventSourceChoices.OBJECT_CHANGE,
        help_text="Object changes, or Job / Workflow runs reaching a final state.",
    )
    content_types = models.ManyToManyField(
        to=ContentType,
        related_name="jobflow_hook_rules",
        limit_choices_to=ChangeLoggedModelsQuery,
        blank=True,
        verbose_name="Object types",
        help_text="Object changes: the types of objects the rule watches.",
    )
    type_create = models.BooleanField(default=False, verbose_name="On create")
    type_update = models.BooleanField(default=False, verbose_name="On update")
    type_delete = models.BooleanField(default=False, verbose_name="On delete")
    conditions = models.JSONField(
        default=list,
        blank=True,
        help_text='A list of {"path": ..., "op": ..., "value": ...}; see the operator reference in the docs.',
    )
    match = models.CharField(
        max_length=10,
        choices=HookMatchChoices,
        default=HookMatchChoices.ALL,
        help_text="Fire when all conditions hold, or when any does.",
    )
    object_filter = models.JSONField(
        default=dict,
        blank=True,
        help_text="Object changes: filter parameters of the model's FilterSet (as Dynamic Groups use) the changed "
        "object must match after the change. Not applied to deletes.",
    )
    completion_jobs = models.ManyToManyField(
        to="extras.Job",
        related_name="jobflow_completion_hook_rules",
        blank=True,
        help_text="Job completion: the Jobs whose runs the rule watches (none: every Job).",
    )
    completion_workflows = models.ManyToManyField(
        to="nautobot_jobflow.Workflow",
        related_name="completion_hook_rules",
        blank=True,
        help_text="Workflow completion: the Workflows whose runs the rule watches (none: every Workflow).",
    )
    completion_statuses = models.JSONField(
        default=list,
        blank=True,
        help_text="Completions: final states that fire the rule, of "
        f"{', '.join(HookCompletionStatusChoices.values())} (none: any).",
    )
    job = models.ForeignKey(
        "extras.Job",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="jobflow_hook_rules",
        help_text="The Job to run (or choose a Workflow).",
    )
    workflow = models.ForeignKey(
        "nautobot_jobflow.Workflow",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="hook_rules",
        help_text="The Workflow to run (or choose a Job).",
    )
    input_template = models.JSONField(
        default=dict,
        blank=True,
        help_text="Target input name to a literal or a Jinja2 template over object, change, objects, changes, "
        "completion and rule.",
    )
    debounce_seconds = models.PositiveIntegerField(
        default=0,
        validators=[MaxValueValidator(MAX_DEBOUNCE_SECONDS)],
        verbose_name="Debounce window (seconds)",
        help_text="0: fire for every matching event. Otherwise events of one object (or, in batch mode, of one user) "
        "within this many seconds of the first one start a single run when the window closes.",
    )
    batch = models.BooleanField(
        default=False,
        verbose_name="Batch mode",
        help_text="One run for all objects that matched within the window; the run's inputs get the list.",
    )
    allow_one_level = models.BooleanField(
        default=False,
        verbose_name="Allow one level",
        help_text="Let changes made by runs a hook started trigger this rule once more (never deeper).",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="jobflow_hook_rules",
        help_text="Who created the rule. Every save needs run permission on the target.",
    )

    natural_key_field_names = ["name"]

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def target(self):
        """The Job or Workflow the rule runs."""
        return self.job if self.job_id else self.workflow

    @property
    def target_label(self):
        """What the rule runs, for tables."""
        if self.job_id:
            return f"Job {self.job}"
        return f"Workflow {self.workflow}" if self.workflow_id else "—"

    @property
    def actions_label(self):
        """The actions an object-change rule watches, for tables."""
        return ", ".join(
            label
            for enabled, label in (
                (self.type_create, "create"),
                (self.type_update, "update"),
                (self.type_delete, "delete"),
            )
            if enabled
        )

    def clean(self):
        """Everything that could fail when the rule fires is checked here, as field errors."""
        super().clean()
        validate_rule(self)


class HookWindow(BaseModel):
    """An open debounce (or batch) window: the events of one group wait here until the window fires, once."""

    rule = models.ForeignKey(HookRule, on_delete=models.CASCADE, related_name="windows")
    key = models.CharField(max_length=255, help_text="The group: one object (debounce) or one user (batch).")
    status = models.CharField(max_length=10, choices=HookWindowStatusChoices, default=HookWindowStatusChoices.OPEN)
    opened = models.DateTimeField()
    fires_at = models.DateTimeField(db_index=True)
    fired = models.DateTimeField(null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    depth = models.PositiveSmallIntegerField(default=0, help_text="Hook depth of the events (loop protection).")
    event_count = models.PositiveIntegerField(default=0, help_text="Events that joined the window.")

    class Meta:
        ordering = ["-opened"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "key"],
                condition=models.Q(status=HookWindowStatusChoices.OPEN),
                name="jobflow_hookwindow_one_open_per_group",
            )
        ]

    def __str__(self):
        return f"{self.rule}: {self.key} ({self.status})"

    def changes(self):
        """The window's changes, one per object in the order the objects first changed (``change`` of templates)."""
        return [event.merged_change() for event in self.events.order_by("first_position")]


class HookWindowEvent(BaseModel):
    """The changes of one object in a window: the first change's ``before`` and actions, the latest change.

    One row per (window, object), upserted once per drain batch, so a window collecting thousands of objects costs
    one statement per batch instead of rewriting all of them.
    """

    window = models.ForeignKey(HookWindow, on_delete=models.CASCADE, related_name="events")
    object_type = models.CharField(max_length=100, help_text="app_label.model")
    object_id = models.CharField(max_length=64, blank=True)
    before = models.JSONField(null=True, blank=True, help_text="The object before the window's first change of it.")
    latest = models.JSONField(default=dict, help_text="The latest change of the object (as the template sees it).")
    first_action = models.CharField(max_length=10)
    latest_action = models.CharField(max_length=10)
    count = models.PositiveIntegerField(default=1, help_text="Changes of the object that joined the window.")
    first_position = models.PositiveIntegerField(help_text="Place of the object's first change in the window.")
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()

    class Meta:
        ordering = ["window", "first_position"]
        constraints = [
            models.UniqueConstraint(
                fields=["window", "object_type", "object_id"], name="jobflow_hookwindowevent_one_per_object"
            )
        ]

    def __str__(self):
        return f"{self.window}: {self.object_type} {self.object_id} ({self.count})"

    @property
    def action(self):
        """A create followed by updates reads as a create; otherwise the latest action."""
        if self.first_action == "create" and self.latest_action == "update":
            return "create"
        return self.latest_action

    def merged_change(self):
        """The latest change, with the ``before`` of the first one and the merged action."""
        return {**self.latest, "before": self.before, "action": self.action}


@extras_features("graphql")
class HookFiring(BaseModel):
    """One time a rule matched an event (or a window closed), and what came of it: a run, a skip, a failure."""

    rule = models.ForeignKey(HookRule, on_delete=models.CASCADE, related_name="firings")
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    status = models.CharField(max_length=20, choices=HookFiringStatusChoices, db_index=True)
    reason = models.TextField(blank=True)
    action = models.CharField(max_length=20, blank=True, help_text="create / update / delete, or completion.")
    changed_object_type = models.ForeignKey(
        ContentType, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed_object_id = models.UUIDField(null=True, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    object_count = models.PositiveIntegerField(default=1)
    request_id = models.UUIDField(null=True, blank=True, help_text="Change request (ObjectChange.request_id).")
    source_job_result = models.ForeignKey(
        "extras.JobResult", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source_workflow_run = models.ForeignKey(
        "nautobot_jobflow.WorkflowRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    window = models.ForeignKey(HookWindow, on_delete=models.SET_NULL, null=True, blank=True, related_name="firings")
    depth = models.PositiveSmallIntegerField(default=0, help_text="0: a person's change; 1: made by a hook's run.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    inputs = models.JSONField(default=dict, blank=True)
    job_result = models.ForeignKey(
        "extras.JobResult", on_delete=models.SET_NULL, null=True, blank=True, related_name="jobflow_hook_firings"
    )
    workflow_run = models.ForeignKey(
        "nautobot_jobflow.WorkflowRun",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="hook_firings",
    )
    dedupe_key = models.CharField(max_length=100, blank=True, help_text="Completion triggers fire once per run.")

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "dedupe_key"],
                condition=~models.Q(dedupe_key=""),
                name="jobflow_hookfiring_once_per_source",
            )
        ]

    def __str__(self):
        return f"{self.rule}: {self.get_status_display()} {self.object_repr}".strip()

    def get_absolute_url(self, api=False):
        """Firings are shown on their rule's page."""
        if api:
            return reverse("plugins-api:nautobot_jobflow-api:hookfiring-detail", kwargs={"pk": self.pk})
        return reverse("plugins:nautobot_jobflow:hookrule", kwargs={"pk": self.rule_id})

    def get_status_class(self):
        """Bootstrap colour of the status badge."""
        return HookFiringStatusChoices.CSS_CLASSES.get(self.status, "secondary")
