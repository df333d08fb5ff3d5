"""Workflow button pages (list, detail, edit, bulk edit, delete, CSV) and the press of a button on an object page."""

import json
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.generic import View
from nautobot.apps.views import NautobotUIViewSet

from nautobot_jobflow import details, filters, forms, tables
from nautobot_jobflow.api import serializers
from nautobot_jobflow.choices import LaunchOriginChoices
from nautobot_jobflow.launching.permissions import check_target_runnable
from nautobot_jobflow.lib.errors import LaunchForbidden, LaunchRefused, refusal_text
from nautobot_jobflow.lib.json_schema import merged_inputs, missing_required
from nautobot_jobflow.lib.sandbox import TemplateProblem
from nautobot_jobflow.models import WorkflowButton
from nautobot_jobflow.service import launch


class WorkflowButtonUIViewSet(NautobotUIViewSet):
    """Workflow buttons: CRUD, bulk edit/delete, CSV export and import."""

    queryset = WorkflowButton.objects.select_related("workflow").prefetch_related("content_types", "tags")
    filterset_class = filters.WorkflowButtonFilterSet
    filterset_form_class = forms.WorkflowButtonFilterForm
    form_class = forms.WorkflowButtonForm
    bulk_update_form_class = forms.WorkflowButtonBulkEditForm
    serializer_class = serializers.WorkflowButtonSerializer
    table_class = tables.WorkflowButtonTable

    object_detail_content = details.workflow_button


class WorkflowButtonPressView(LoginRequiredMixin, View):
    """POST of a workflow button on an object page: render its inputs from the object and launch its workflow.

    As with core's job buttons, what is checked is the presser's permission to view the object and to run the
    workflow (every Job of it: 403 otherwise), not a permission on the button itself. The launch goes through
    ``service.launch`` with origin *button*, so approval policies apply. When the workflow requires inputs the
    template does not give (nor the workflow's defaults), the run form opens pre-filled with what it gives.
    """

    http_method_names = ["post"]

    def post(self, request, pk):
        """Launch, then go to the run (or the approval request); errors go back to the object's page."""
        button = get_object_or_404(WorkflowButton.objects.select_related("workflow"), pk=pk, enabled=True)
        obj = self._object(request, button)
        back = obj.get_absolute_url()
        workflow = button.workflow
        try:
            check_target_runnable(workflow, request.user)  # before anything else: 403 even if inputs are missing
        except LaunchForbidden as error:
            raise PermissionDenied(str(error)) from None
        except LaunchRefused as error:
            messages.error(request, f"{button.label}: {refusal_text(error)}")
            return redirect(back)
        try:
            inputs = button.render_inputs(obj, request.user)
        except TemplateProblem as problem:
            messages.error(request, f"{button.label}: the inputs could not be made from {obj}: {problem}")
            return redirect(back)
        missing = missing_required(workflow.input_schema, merged_inputs(workflow, inputs))
        if missing:
            messages.info(request, f"{workflow} also needs {', '.join(missing)}: complete the form to start it.")
            run_form = reverse("plugins:nautobot_jobflow:workflow_run", kwargs={"pk": workflow.pk})
            return redirect(f"{run_form}?{urlencode({'inputs': json.dumps(inputs)})}")
        try:
            outcome = launch(workflow, inputs, request.user, LaunchOriginChoices.BUTTON)
        except LaunchForbidden as error:
            raise PermissionDenied(str(error)) from None
        except LaunchRefused as error:
            messages.error(request, f"{button.label}: {workflow} was not started: {refusal_text(error)}")
            return redirect(back)
        if outcome.approval_required:
            messages.info(
                request, f"The run of {workflow} is held for approval by policy '{outcome.request.policy_name}'."
            )
            return redirect(outcome.request.get_absolute_url())
        messages.success(request, f"Started {outcome.run} for {obj}.")
        return redirect(outcome.run.get_absolute_url())

    @staticmethod
    def _object(request, button):
        """The object the button was pressed on: of one of the button's types, and one the user may view (else 404)."""
        app_label, _, model_name = request.POST.get("object_type", "").partition(".")
        content_type = button.content_types.filter(app_label=app_label, model=model_name).first()
        model = content_type.model_class() if content_type is not None else None
        if model is None:
            raise Http404("This button is not on pages of that object type.")
        queryset = model.objects.all()
        if hasattr(queryset, "restrict"):
            queryset = queryset.restrict(request.user, "view")
        elif not request.user.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}"):
            raise Http404("No such object.")
        try:
            obj = queryset.filter(pk=request.POST.get("object_id")).first()
        except (ValidationError, ValueError):
            obj = None
        if obj is None:
            raise Http404("No such object (or you may not view it).")
        return obj
