"""Workflow pages: list, detail (fields, graph, steps, edges, runs), edit, run form and YAML export/import."""

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from nautobot.apps.views import NautobotUIViewSet
from rest_framework.decorators import action

from nautobot_jobflow import details, filters, forms, tables
from nautobot_jobflow.api import serializers
from nautobot_jobflow.choices import LaunchOriginChoices
from nautobot_jobflow.input_forms import WorkflowLaunchForm
from nautobot_jobflow.lib.errors import LaunchForbidden, LaunchRefused
from nautobot_jobflow.models import Workflow
from nautobot_jobflow.models.workflow_yaml import export_workflow, import_workflow
from nautobot_jobflow.service import launch
from nautobot_jobflow.views.common import add_launch_errors


class WorkflowUIViewSet(NautobotUIViewSet):
    """Workflows: CRUD, bulk edit/delete, CSV export; steps and edges are edited from the detail page."""

    queryset = Workflow.objects.prefetch_related("tags")
    filterset_class = filters.WorkflowFilterSet
    filterset_form_class = forms.WorkflowFilterForm
    form_class = forms.WorkflowForm
    bulk_update_form_class = forms.WorkflowBulkEditForm
    serializer_class = serializers.WorkflowSerializer
    table_class = tables.WorkflowTable
    action_buttons = ("add", "export")

    object_detail_content = details.workflow

    @action(detail=True, url_path="run", url_name="run", methods=["get", "post"], custom_view_base_action="view")
    def run(self, request, *args, **kwargs):
        """The run form: inputs from the input schema plus dry run; POST launches through launch().

        ``?inputs=<JSON object>`` pre-fills inputs (a workflow button sends the ones its template gives).
        """
        workflow = self.get_object()
        form = WorkflowLaunchForm(
            request.POST if request.method == "POST" else None,
            workflow=workflow,
            initial_inputs=_given_inputs(request.GET.get("inputs")),
        )
        if request.method == "POST" and form.is_valid():
            outcome = self._launch(request, form, workflow)
            if outcome is not None:
                if outcome.approval_required:
                    messages.info(
                        request,
                        f"The run of {workflow} is held for approval by policy '{outcome.request.policy_name}'.",
                    )
                    return redirect(outcome.request.get_absolute_url())
                if outcome.run is not None:
                    messages.success(request, f"Started {outcome.run}.")
                    return redirect(outcome.run.get_absolute_url())
                return redirect(workflow.get_absolute_url())
        return render(
            request,
            "nautobot_jobflow/workflow_run.html",
            {"object": workflow, "form": form, "return_url": workflow.get_absolute_url()},
        )

    @staticmethod
    def _launch(request, form, workflow):
        """launch(); refusals become form errors on the field they name, forbidden Jobs a non-field error."""
        try:
            return launch(
                workflow, form.get_inputs(), request.user, LaunchOriginChoices.UI, dryrun=form.cleaned_data["dryrun"]
            )
        except LaunchForbidden as error:
            form.add_error(None, str(error.args[0]) if error.args else "You may not run this workflow.")
        except LaunchRefused as error:
            add_launch_errors(form, error, _launch_error_place(form))
        return None

    @action(detail=True, url_path="yaml", url_name="export_yaml", methods=["get"], custom_view_base_action="view")
    def export_yaml(self, request, *args, **kwargs):
        """Download the workflow definition as ``<name>.yaml``."""
        workflow = self.get_object()
        response = HttpResponse(export_workflow(workflow), content_type="application/yaml; charset=utf-8")
        filename = slugify(workflow.name) or "workflow"
        response["Content-Disposition"] = f'attachment; filename="{filename}.yaml"'
        return response

    @action(
        detail=False,
        url_path="import-yaml",
        url_name="import_yaml",
        methods=["get", "post"],
        custom_view_base_action="add",
    )
    def import_yaml(self, request, *args, **kwargs):
        """Create (or replace the steps and edges of) a workflow from YAML; problems are shown as form errors."""
        form = forms.WorkflowImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            existing = set(Workflow.objects.values_list("pk", flat=True))
            try:
                with transaction.atomic():
                    workflow = import_workflow(form.cleaned_data["yaml_text"], request.user)
                    # Replacing needs change permission on that workflow, creating needs add permission.
                    needed = "change" if workflow.pk in existing else "add"
                    if not Workflow.objects.restrict(request.user, needed).filter(pk=workflow.pk).exists():
                        raise ValidationError(f"You may not create or change the workflow '{workflow.name}'.")
            except ValidationError as error:
                form.add_error("yaml_text", error.messages)
            else:
                messages.success(request, f"Imported workflow {workflow}.")
                return redirect(workflow.get_absolute_url())
        return render(
            request,
            "nautobot_jobflow/workflow_import_yaml.html",
            {"form": form, "return_url": self.get_return_url(request)},
        )


def _given_inputs(text):
    """The inputs object of a ``?inputs=`` query value; anything but a JSON object pre-fills nothing."""
    try:
        value = json.loads(text) if text else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _launch_error_place(form):
    """Where the run form shows a refusal's messages: input problems on the inputs' fields, ``dryrun`` on its own.

    Input problems come as ``{"inputs": "name: message; other: message"}`` (see engine.inputs); each part that
    starts with a top-level input name goes to that input's field. Anything else is a non-field error.
    """

    def place(key, message):
        if key == "inputs":
            for part in message.split("; "):
                where = part.split(":", 1)[0].split(".", 1)[0]
                yield (form.field_name_for(where) if ":" in part else None), part
        else:
            yield ("dryrun" if key == "dryrun" else None), message

    return place
