"""Approval pages: policies (CRUD), launch requests (the Approvals page, detail with preview and decisions)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.html import format_html
from nautobot.apps.ui import (
    ObjectDetailContent,
    ObjectFieldsPanel,
    ObjectsTablePanel,
    Panel,
    SectionChoices,
)
from nautobot.apps.views import (
    NautobotUIViewSet,
    ObjectDetailViewMixin,
    ObjectListViewMixin,
)
from nautobot.core.templatetags import helpers
from rest_framework.decorators import action

from nautobot_jobflow import filters, forms, tables
from nautobot_jobflow.api import serializers
from nautobot_jobflow.approvals.preview import preview_for
from nautobot_jobflow.choices import LaunchOriginChoices
from nautobot_jobflow.models import ApprovalPolicy, LaunchRequest
from nautobot_jobflow.views.panels import linked_objects


def _json(value):
    return helpers.render_json(value, pretty_print=True) if value else helpers.placeholder(None)


def _linked_or_every(noun):
    """Render a policy's Jobs or Workflows (a related manager) as links; none chosen means every one is covered."""
    return linked_objects(empty=format_html('<span class="text-muted">Every {}</span>', noun))


class ApprovalPolicyUIViewSet(NautobotUIViewSet):
    """Approval policies: list, detail, add, edit, delete, bulk edit and CSV export."""

    queryset = ApprovalPolicy.objects.select_related("approval_workflow_definition", "object_content_type")
    filterset_class = filters.ApprovalPolicyFilterSet
    filterset_form_class = forms.ApprovalPolicyFilterForm
    form_class = forms.ApprovalPolicyForm
    bulk_update_form_class = forms.ApprovalPolicyBulkEditForm
    serializer_class = serializers.ApprovalPolicySerializer
    table_class = tables.ApprovalPolicyTable

    object_detail_content = ObjectDetailContent(
        panels=(
            ObjectFieldsPanel(
                weight=100,
                section=SectionChoices.LEFT_HALF,
                fields=[
                    "name",
                    "description",
                    "enabled",
                    "weight",
                    "applies_to",
                    "jobs",
                    "workflows",
                    "origins",
                    "dryrun_exempt",
                ],
                value_transforms={"jobs": [_linked_or_every("Job")], "workflows": [_linked_or_every("Workflow")]},
            ),
            ObjectFieldsPanel(
                weight=200,
                section=SectionChoices.RIGHT_HALF,
                label="Who approves, until when",
                fields=[
                    "approval_workflow_definition",
                    "expiry_minutes",
                    "allow_self_approval",
                    "require_preview",
                    "object_content_type",
                    "object_filter",
                    "min_objects",
                ],
                value_transforms={"object_filter": [_json]},
            ),
            ObjectsTablePanel(
                weight=300,
                section=SectionChoices.FULL_WIDTH,
                table_class=tables.LaunchRequestTable,
                table_filter="policy",
                table_title="Requests",
                exclude_columns=["policy"],
                add_button_route=None,
            ),
        )
    )


class ApprovalPanel(Panel):
    """Stages, preview and the decision form of a request, rendered from a template."""

    label = "Approval"

    def render_body_content(self, context):
        """Core's stages and responses, the preview, and approve/deny/comment/cancel for this user."""
        launch_request = context["object"]
        request = context["request"]
        approval_workflow = launch_request.approval_workflow
        stages = []
        if approval_workflow is not None:
            for stage in approval_workflow.approval_workflow_stages.select_related(
                "approval_workflow_stage_definition__approver_group"
            ).order_by("approval_workflow_stage_definition__sequence"):
                responses = stage.approval_workflow_stage_responses.select_related("user").order_by("last_updated")
                stages.append((stage, list(responses)))
        return render_to_string(
            "nautobot_jobflow/inc/launch_request_approval.html",
            {
                "launch_request": launch_request,
                "approval_workflow": approval_workflow,
                "stages": stages,
                "preview": preview_for(launch_request),
                "form": forms.ApprovalDecisionForm(),
                "is_requester": launch_request.user_id == request.user.pk,
            },
            request=request,
        )


class LaunchRequestUIViewSet(ObjectDetailViewMixin, ObjectListViewMixin):
    """Launch requests held for approval: the Approvals page and each request's page with its preview."""

    queryset = LaunchRequest.objects.select_related("policy", "job", "workflow", "user", "workflow_run")
    filterset_class = filters.LaunchRequestFilterSet
    filterset_form_class = forms.LaunchRequestFilterForm
    serializer_class = serializers.LaunchRequestSerializer
    table_class = tables.LaunchRequestTable
    action_buttons = ("export",)

    object_detail_content = ObjectDetailContent(
        panels=(
            ObjectFieldsPanel(
                weight=100,
                section=SectionChoices.LEFT_HALF,
                fields=[
                    "target_name",
                    "job",
                    "workflow",
                    "status",
                    "user",
                    "origin",
                    "dryrun",
                    "policy",
                    "expires_at",
                    "decided",
                    "message",
                    "workflow_run",
                    "step_run",
                    "job_result",
                ],
            ),
            ObjectFieldsPanel(
                weight=200,
                section=SectionChoices.RIGHT_HALF,
                label="Inputs",
                fields=["inputs"],
                value_transforms={"inputs": [_json]},
            ),
            ApprovalPanel(weight=100, section=SectionChoices.FULL_WIDTH),
            ObjectsTablePanel(
                weight=200,
                section=SectionChoices.FULL_WIDTH,
                table_class=tables.ApprovalEventTable,
                table_filter="request",
                table_title="Audit trail",
                exclude_columns=["request"],
                select_related_fields=["preview_job_result", "preview_run"],
                add_button_route=None,
                enable_related_link=False,
            ),
        )
    )

    def filter_queryset(self, queryset):
        """As core's, then ``awaiting_me``, which needs the signed-in user that core's list does not hand over."""
        queryset = super().filter_queryset(queryset)
        if self.filterset is not None and self.filterset.is_valid():
            value = self.filterset.form.cleaned_data.get("awaiting_me")
            if value is not None:
                self.filterset.request = self.request
                queryset = self.filterset.filter_awaiting_me(queryset, "awaiting_me", value)
        return queryset

    def _decide(self, request, action_name):
        from nautobot_jobflow.approvals.decisions import ApprovalRefused, cancel_request, decide

        launch_request = self.get_object()
        form = forms.ApprovalDecisionForm(request.POST)
        comments = form.cleaned_data["comments"] if form.is_valid() else ""
        try:
            if action_name == "cancel":
                cancel_request(launch_request, request.user, comments)
            else:
                decide(launch_request, request.user, action_name, comments)
        except ApprovalRefused as error:
            messages.error(request, str(error))
        else:
            launch_request.refresh_from_db()
            messages.success(request, f"{action_name.title()}: {launch_request}.")
        return redirect(launch_request.get_absolute_url())

    @action(
        detail=False,
        url_path="request-run",
        url_name="request_run",
        methods=["get", "post"],
        custom_view_base_action="view",
    )
    def request_run(self, request, *args, **kwargs):
        """Run one Job through launch(): held for approval when a policy covers it, started otherwise."""
        from nautobot_jobflow.lib.errors import LaunchForbidden, LaunchRefused
        from nautobot_jobflow.service import launch

        initial = {"job": request.GET.get("job")} if request.GET.get("job") else None
        form = forms.JobRunRequestForm(request.POST if request.method == "POST" else None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                outcome = launch(
                    form.cleaned_data["job"],
                    form.cleaned_data["inputs"],
                    request.user,
                    LaunchOriginChoices.UI,
                    dryrun=form.cleaned_data["dryrun"],
                )
            except LaunchForbidden as error:
                form.add_error(None, str(error))
            except LaunchRefused as error:
                problems = error.message_dict if hasattr(error, "error_dict") else {None: error.messages}
                for key, texts in problems.items():
                    field = key if key in ("job", "inputs", "dryrun") else None
                    for text in texts:
                        form.add_error(field, text if field else f"{key}: {text}" if key else text)
            else:
                if outcome.approval_required:
                    messages.info(request, f"Held for approval by policy '{outcome.request.policy_name}'.")
                    return redirect(outcome.request.get_absolute_url())
                messages.success(request, f"Started {outcome.job_result}.")
                return redirect(outcome.job_result.get_absolute_url())
        return render(request, "nautobot_jobflow/request_run.html", {"form": form})

    @action(detail=True, url_path="approve", url_name="approve", methods=["post"], custom_view_base_action="view")
    def approve(self, request, *args, **kwargs):
        """Approve the active stage as the signed-in user."""
        return self._decide(request, "approve")

    @action(detail=True, url_path="deny", url_name="deny", methods=["post"], custom_view_base_action="view")
    def deny(self, request, *args, **kwargs):
        """Deny the active stage: the request ends and never runs."""
        return self._decide(request, "deny")

    @action(detail=True, url_path="comment", url_name="comment", methods=["post"], custom_view_base_action="view")
    def comment(self, request, *args, **kwargs):
        """Comment without deciding."""
        return self._decide(request, "comment")

    @action(detail=True, url_path="cancel", url_name="cancel", methods=["post"], custom_view_base_action="view")
    def cancel(self, request, *args, **kwargs):
        """Withdraw the request."""
        return self._decide(request, "cancel")
