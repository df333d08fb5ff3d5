"""Approval models: policies that decide which launches need approval, and the requests they create.

The approval state itself lives in Nautobot core's models: a LaunchRequest is an approvable object
(``ApprovableModelMixin``); its ``ApprovalWorkflow`` / ``ApprovalWorkflowStage`` / ``ApprovalWorkflowStageResponse``
rows are core's, so requests appear in core's approval views, "My Approvals" dashboard and approve/deny API.
A policy's stages are a core ``ApprovalWorkflowDefinition`` (ordered stage definitions, each an approver group and
a minimum number of approvers). The app adds what core lacks: which launches are covered, expiry, refusal of
self-approval, the dry-run preview, and the gate in ``launch()`` that every entry point goes through.
"""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.dispatch import Signal
from django.urls import reverse
from django.utils import timezone
from nautobot.apps.models import BaseModel, OrganizationalModel, PrimaryModel, extras_features
from nautobot.core.models.managers import BaseManager
from nautobot.extras.choices import ApprovalWorkflowStateChoices
from nautobot.extras.models import ApprovalWorkflow
from nautobot.extras.models.mixins import ApprovableModelMixin

from nautobot_jobflow.choices import (
    ApprovalEventKindChoices,
    LaunchOriginChoices,
    LaunchRequestStatusChoices,
    PolicyTargetChoices,
)
from nautobot_jobflow.models.approval_matching import object_filter_problem, stage_problems
from nautobot_jobflow.models.approval_queries import ApprovalPolicyQuerySet, LaunchRequestQuerySet
from nautobot_jobflow.models.git_owned import GitOwnedModel

MAX_EXPIRY_MINUTES = 90 * 24 * 60

# Sent when core's approval workflow of a LaunchRequest reaches a final state, with ``request_pk`` and ``status``
# (approved, denied or canceled). The app's decision logic (``approvals.decisions``) receives it: models only say
# what happened, the layer above decides what follows (start the launch, or record why it never runs).
launch_request_decided = Signal()


@extras_features("custom_fields", "custom_links", "export_templates", "graphql", "relationships", "webhooks")
class ApprovalPolicy(PrimaryModel, GitOwnedModel):
    """Which launches need approval, who approves them (a core approval workflow definition), and until when."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=255, blank=True)
    enabled = models.BooleanField(default=True)
    weight = models.IntegerField(default=100, help_text="When several policies match a launch, the highest wins.")
    applies_to = models.CharField(
        max_length=20,
        choices=PolicyTargetChoices,
        default=PolicyTargetChoices.ALL,
        help_text="Launches of Jobs, of Workflows, or of both.",
    )
    jobs = models.ManyToManyField(
        to="extras.Job",
        related_name="+",
        blank=True,
        help_text="Only these Jobs (empty: every Job). Workflow steps running these Jobs are covered too.",
    )
    workflows = models.ManyToManyField(
        to="nautobot_jobflow.Workflow",
        related_name="approval_policies",
        blank=True,
        help_text="Only these Workflows (empty: every Workflow).",
    )
    origins = models.JSONField(
        default=list,
        blank=True,
        help_text="Launch origins covered: ui, api, schedule, button, hook, workflow (empty: all).",
    )
    dryrun_exempt = models.BooleanField(
        default=True, verbose_name="Dry runs exempt", help_text="Dry runs start without approval."
    )
    object_content_type = models.ForeignKey(
        to=ContentType,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name="Object type",
        help_text="Cover only launches whose inputs name objects of this type (e.g. dcim | device).",
    )
    object_filter = models.JSONField(
        default=dict,
        blank=True,
        help_text="Filter on those objects in the type's own filter vocabulary, e.g. "
        '{"location": ["HQ"]} (that location or below) or {"tag": ["core"]}. Empty: any object of the type.',
    )
    min_objects = models.PositiveIntegerField(
        null=True,
        blank=True,
        verbose_name="More than N objects",
        help_text="Cover the launch only when more than this many input objects match (empty: one is enough).",
    )
    approval_workflow_definition = models.ForeignKey(
        to="extras.ApprovalWorkflowDefinition",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="Approval stages",
        help_text="A core approval workflow definition for Launch requests: its ordered stages, each an approver "
        "group and a minimum number of approvers.",
    )
    expiry_minutes = models.IntegerField(
        null=True,
        blank=True,
        verbose_name="Expires after (minutes)",
        help_text="A request still pending after this long is expired and never runs (empty: no expiry).",
    )
    allow_self_approval = models.BooleanField(
        default=False, help_text="Let the requester approve their own request (superusers included)."
    )
    require_preview = models.BooleanField(
        default=False,
        verbose_name="Require dry-run preview",
        help_text="Refuse launches whose target cannot dry-run, and approvals before the preview has finished.",
    )

    objects = BaseManager.from_queryset(ApprovalPolicyQuerySet)()

    natural_key_field_names = ["name"]

    class Meta:
        ordering = ["-weight", "name"]
        verbose_name_plural = "approval policies"

    def __str__(self):
        return self.name

    def get_absolute_url(self, api=False):
        """Detail page (or API detail when ``api``)."""
        if api:
            return reverse("plugins-api:nautobot_jobflow-api:approvalpolicy-detail", kwargs={"pk": self.pk})
        return reverse("plugins:nautobot_jobflow:approvalpolicy", kwargs={"pk": self.pk})

    def clean(self):
        """Stages, expiry, origins and the object filter must make sense; errors name the field."""
        super().clean()
        if self.expiry_minutes is not None and not 0 < self.expiry_minutes <= MAX_EXPIRY_MINUTES:
            raise ValidationError(
                {"expiry_minutes": f"Expiry must be between 1 and {MAX_EXPIRY_MINUTES} minutes (or empty for none)."}
            )
        if not isinstance(self.origins, list) or any(o not in LaunchOriginChoices.values() for o in self.origins):
            allowed = ", ".join(LaunchOriginChoices.values())
            raise ValidationError({"origins": f"Origins must be a list of: {allowed}."})
        if len(set(self.origins)) != len(self.origins):
            raise ValidationError({"origins": "Origins must not repeat."})
        if self.approval_workflow_definition_id:
            problems = stage_problems(self.approval_workflow_definition)
            if problems:
                raise ValidationError({"approval_workflow_definition": problems})
        problem = object_filter_problem(self.object_content_type, self.object_filter)
        if problem:
            raise ValidationError({"object_filter": problem})
        if self.min_objects is not None and self.object_content_type_id is None:
            raise ValidationError({"min_objects": "Set an object type to count input objects."})

    def covers_origin(self, origin):
        """True when the policy applies to launches from ``origin``."""
        return not self.origins or origin in self.origins


@extras_features("custom_fields", "custom_links", "export_templates", "graphql", "relationships", "webhooks")
class LaunchRequest(ApprovableModelMixin, OrganizationalModel):
    """A launch held by an approval policy: a Job run, a Workflow run, or one workflow step, waiting for approval.

    Approval starts it exactly once; denial, expiry or cancel mean it never runs.
    """

    policy = models.ForeignKey(
        to=ApprovalPolicy, on_delete=models.SET_NULL, null=True, blank=True, related_name="launch_requests"
    )
    policy_name = models.CharField(max_length=100, editable=False)
    job = models.ForeignKey(to="extras.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    workflow = models.ForeignKey(
        to="nautobot_jobflow.Workflow", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    target_name = models.CharField(max_length=255, editable=False)
    inputs = models.JSONField(default=dict, blank=True, help_text="Job kwargs or workflow inputs, as validated.")
    dryrun = models.BooleanField(default=False)
    origin = models.CharField(max_length=20, choices=LaunchOriginChoices)
    user = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    user_name = models.CharField(max_length=150, editable=False, verbose_name="Requester")
    status = models.CharField(
        max_length=20, choices=LaunchRequestStatusChoices, default=LaunchRequestStatusChoices.PENDING
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    decided = models.DateTimeField(null=True, blank=True)
    message = models.TextField(blank=True, help_text="Why the request ended the way it did.")
    job_queue = models.ForeignKey(
        to="extras.JobQueue", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    workflow_run = models.ForeignKey(
        to="nautobot_jobflow.WorkflowRun",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="launch_requests",
        help_text="The workflow run held by this request (a Workflow launch, or the run of a gated step).",
    )
    step_run = models.OneToOneField(
        to="nautobot_jobflow.WorkflowStepRun",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="launch_request",
    )
    job_result = models.ForeignKey(
        to="extras.JobResult", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    preview_job_result = models.ForeignKey(
        to="extras.JobResult", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    preview_run = models.ForeignKey(
        to="nautobot_jobflow.WorkflowRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    preview_note = models.CharField(max_length=255, blank=True)

    objects = BaseManager.from_queryset(LaunchRequestQuerySet)()

    class Meta:
        ordering = ["-created"]

    def __str__(self):
        return f"{self.target_name} for {self.user_name} ({self.get_status_display()})"

    def get_absolute_url(self, api=False):
        """Detail page (or API detail when ``api``)."""
        if api:
            return reverse("plugins-api:nautobot_jobflow-api:launchrequest-detail", kwargs={"pk": self.pk})
        return reverse("plugins:nautobot_jobflow:launchrequest", kwargs={"pk": self.pk})

    def get_approval_workflow_url(self):
        """Core links here from its approval views; our detail page shows the approval state and the preview."""
        return self.get_absolute_url()

    def get_status_class(self):
        """Bootstrap class for the status label."""
        return LaunchRequestStatusChoices.CSS_CLASSES.get(self.status, "secondary")

    @property
    def is_pending(self):
        """True while no decision has been taken."""
        return self.status == LaunchRequestStatusChoices.PENDING

    @property
    def is_expired(self):
        """True when the request is pending past its expiry time."""
        return self.is_pending and self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def approval_workflow(self):
        """Core's approval workflow for this request (there is exactly one); uses a prefetch when there is one."""
        approval_workflows = list(self.associated_approval_workflows.all())
        return approval_workflows[0] if approval_workflows else None

    @property
    def preview(self):
        """The preview's JobResult or WorkflowRun, if one was started."""
        return self.preview_job_result or self.preview_run

    def record_event(self, kind, user, message="", preview=None):
        """Append one line to the request's audit trail (``preview``: the JobResult or run the approver saw)."""
        return ApprovalEvent.objects.create(
            request=self,
            kind=kind,
            user=user if getattr(user, "pk", None) else None,
            user_name=getattr(user, "username", "") or "",
            message=message,
            preview_job_result=preview if preview is not None and preview._meta.model_name == "jobresult" else None,
            preview_run=preview if preview is not None and preview._meta.model_name == "workflowrun" else None,
        )

    def close_core_workflow(self, state=ApprovalWorkflowStateChoices.CANCELED):
        """Mark core's approval workflow (and its pending stages) closed without calling back into the request."""
        approval_workflow = self.approval_workflow
        if approval_workflow is None:
            return
        now = timezone.now()
        with transaction.atomic():
            approval_workflow.approval_workflow_stages.filter(state=ApprovalWorkflowStateChoices.PENDING).update(
                state=state, decision_date=now
            )
            ApprovalWorkflow.objects.filter(
                pk=approval_workflow.pk, current_state=ApprovalWorkflowStateChoices.PENDING
            ).update(current_state=state, decision_date=now)

    # Core calls these from ApprovalWorkflow.save() / cancel(); what follows is decided in approvals.decisions.
    def on_workflow_initiated(self, approval_workflow):
        """Nothing to do: the request is created pending by the approval hold."""

    def on_workflow_approved(self, approval_workflow):
        """Core's approval workflow reached 'approved': the launch starts exactly once."""
        launch_request_decided.send(
            sender=LaunchRequest, request_pk=self.pk, status=LaunchRequestStatusChoices.LAUNCHED
        )

    def on_workflow_denied(self, approval_workflow):
        """Core's approval workflow reached 'denied': the launch never runs."""
        launch_request_decided.send(sender=LaunchRequest, request_pk=self.pk, status=LaunchRequestStatusChoices.DENIED)

    def on_workflow_canceled(self, approval_workflow):
        """Core's approval workflow was canceled: the launch never runs."""
        launch_request_decided.send(
            sender=LaunchRequest, request_pk=self.pk, status=LaunchRequestStatusChoices.CANCELED
        )

    def get_approval_template(self):
        """Core's approve page for our requests shows the preview above the form."""
        return "nautobot_jobflow/approval_approve.html"


@extras_features("graphql")
class ApprovalEvent(BaseModel):
    """One line of a request's audit trail: requested, preview, approved, denied, comment, expired, launched."""

    request = models.ForeignKey(to=LaunchRequest, on_delete=models.CASCADE, related_name="events")
    time = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=20, choices=ApprovalEventKindChoices)
    user = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    user_name = models.CharField(max_length=150, blank=True)
    message = models.TextField(blank=True)
    preview_job_result = models.ForeignKey(
        to="extras.JobResult",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="For approvals: the preview the approver saw.",
    )
    preview_run = models.ForeignKey(
        to="nautobot_jobflow.WorkflowRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["time"]

    def __str__(self):
        return f"{self.get_kind_display()} by {self.user_name or 'system'} at {self.time:%Y-%m-%d %H:%M:%S}"
