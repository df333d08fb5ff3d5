"""Approval pages: policies (CRUD), launch requests (the Approvals page, detail with preview and decisions)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from nautobot.apps.views import (
    NautobotUIViewSet,
    ObjectDetailViewMixin,
    ObjectListViewMixin,
)
from rest_framework.decorators import action

from nautobot_jobflow import details, filters, forms, tables
from nautobot_jobflow.api import serializers
from nautobot_jobflow.approvals.decisions import ApprovalRefused, cancel_request, decide
from nautobot_jobflow.choices import LaunchOriginChoices
from nautobot_jobflow.lib.errors import LaunchForbidden, LaunchRefused
from nautobot_jobflow.models import ApprovalPolicy, LaunchRequest
from nautobot_jobflow.service import launch
from nautobot_jobflow.views.common import GitManagedBulkEditViewMixin, add_launch_errors

REQUEST_RUN_FIELDS = ("job", "inputs", "dryrun")


def _request_run_error_place(key, message):
    """Where the request-run form shows a refusal's message: on its field, else a non-field error naming the key."""
    field = key if key in REQUEST_RUN_FIELDS else None
    yield field, (message if field else f"{key}: {message}" if key else message)


class ApprovalPolicyUIViewSet(GitManagedBulkEditViewMixin, NautobotUIViewSet):
    """Approval policies: list, detail, add, edit, delete, bulk edit and CSV export (read-only when from Git)."""

    queryset = ApprovalPolicy.objects.select_related("approval_workflow_definition", "object_content_type")
    filterset_class = filters.ApprovalPolicyFilterSet
    filterset_form_class = forms.ApprovalPolicyFilterForm
    form_class = forms.ApprovalPolicyForm
    bulk_update_form_class = forms.ApprovalPolicyBulkEditForm
    serializer_class = serializers.ApprovalPolicySerializer
    table_class = tables.ApprovalPolicyTable

    object_detail_content = details.approval_policy


class LaunchRequestUIViewSet(ObjectDetailViewMixin, ObjectListViewMixin):
    """Launch requests held for approval: the Approvals page and each request's page with its preview."""

    queryset = LaunchRequest.objects.select_related("policy", "job", "workflow", "user", "workflow_run")
    filterset_class = filters.LaunchRequestFilterSet
    filterset_form_class = forms.LaunchRequestFilterForm
    serializer_class = serializers.LaunchRequestSerializer
    table_class = tables.LaunchRequestTable
    action_buttons = ("export",)

    object_detail_content = details.launch_request

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
                add_launch_errors(form, error, _request_run_error_place)
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
