"""Hook rule pages: list, detail (definition and recent firings with links to their runs), edit, test."""

import json

from django.core.exceptions import ValidationError
from django.shortcuts import render
from nautobot.apps.views import NautobotUIViewSet
from nautobot.extras.models import ObjectChange
from rest_framework.decorators import action

from nautobot_jobflow import details, filters, forms, tables
from nautobot_jobflow.api import serializers
from nautobot_jobflow.hooks.tester import change_from_body, change_from_object_change, run_test
from nautobot_jobflow.launching.permissions import check_target_permission
from nautobot_jobflow.models import HookRule
from nautobot_jobflow.views.common import GitManagedBulkEditViewMixin

RECENT_CHANGES = 10


class HookRuleUIViewSet(GitManagedBulkEditViewMixin, NautobotUIViewSet):
    """Hook rules: CRUD, bulk edit/delete, CSV export; saving needs run permission on the target; Git's read-only."""

    queryset = HookRule.objects.select_related("job", "workflow", "owner").prefetch_related(
        "content_types", "completion_jobs", "completion_workflows", "tags"
    )
    filterset_class = filters.HookRuleFilterSet
    filterset_form_class = forms.HookRuleFilterForm
    form_class = forms.HookRuleForm
    bulk_update_form_class = forms.HookRuleBulkEditForm
    serializer_class = serializers.HookRuleSerializer
    table_class = tables.HookRuleTable
    action_buttons = ("add", "export")

    object_detail_content = details.hook_rule

    def form_valid(self, form):
        """Only a user who may run the target saves the rule; its creator becomes its owner."""
        if not isinstance(form, forms.HookRuleForm):  # delete confirmations, bulk forms
            return super().form_valid(form)
        try:
            check_target_permission(form.instance, self.request.user)
        except ValidationError as error:
            form.add_error(None, error)
            return self.form_invalid(form)
        if not form.instance.present_in_database:
            form.instance.owner = self.request.user
        return super().form_valid(form)

    @action(detail=True, url_path="test", url_name="test", methods=["get", "post"], custom_view_base_action="view")
    def test(self, request, *args, **kwargs):
        """The rule tester: pick a recorded change (or write one) and see the verdict and the rendered inputs."""
        rule = self.get_object()
        form = forms.HookRuleTestForm(request.POST or None)
        verdict = None
        if request.method == "POST" and form.is_valid():
            try:
                verdict = self._verdict(request, rule, form, change_from_body, change_from_object_change, run_test)
            except ValidationError as error:
                form.add_error(None, error)
        recent = ObjectChange.objects.restrict(request.user, "view").filter(
            changed_object_type__in=rule.content_types.all()
        )
        return render(
            request,
            "nautobot_jobflow/hookrule_test.html",
            {
                "object": rule,
                "form": form,
                "verdict": verdict,
                "inputs_json": json.dumps(verdict["inputs"], indent=2, default=str) if verdict else "",
                "recent_changes": recent.select_related("changed_object_type").order_by("-time")[:RECENT_CHANGES],
            },
        )

    @staticmethod
    def _verdict(request, rule, form, change_from_body, change_from_object_change, run_test):
        data = form.cleaned_data
        if data.get("object_change"):
            object_change = ObjectChange.objects.restrict(request.user, "view").filter(pk=data["object_change"]).first()
            if object_change is None:
                raise ValidationError({"object_change": "No such object change (or you may not view it)."})
            return run_test(rule, change=change_from_object_change(object_change))
        if data.get("change"):
            return run_test(rule, change=change_from_body(data["change"]))
        if data.get("completion"):
            if not isinstance(data["completion"], dict):
                raise ValidationError({"completion": "A completion is a JSON object."})
            return run_test(rule, completion=data["completion"])
        raise ValidationError({"object_change": "Give a recorded change, a change or a completion."})
