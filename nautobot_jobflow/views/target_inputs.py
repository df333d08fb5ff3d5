"""A target's input fields as an HTML fragment: what the step and hook rule forms swap in when the target changes.

``GET target-inputs/?job=<pk>`` (or ``?workflow=<pk>``) with ``context`` (``step``, ``hook``, ``button``: which
placeholder and reserved inputs apply) and optionally ``saved`` (the stored inputs as JSON, to show them again when
the user picks the stored target back). Only Jobs and Workflows the user may view are rendered, and object pickers
show only objects the user may view.
"""

import json
import uuid

from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import render
from django.views.generic import View
from nautobot.extras.models import Job

from nautobot_jobflow.forms.target_inputs import TargetInputs
from nautobot_jobflow.models import Workflow


def _pk(value):
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


class TargetInputsView(LoginRequiredMixin, View):
    """Render ``nautobot_jobflow/inc/target_input_rows.html`` for one Job or Workflow."""

    def get(self, request):
        """The rows of the target's inputs (none, with a note, when there is no target the user may view)."""
        target = None
        for param, model in (("job", Job), ("workflow", Workflow)):
            pk = _pk(request.GET.get(param))
            if pk is not None:
                target = model.objects.restrict(request.user, "view").filter(pk=pk).first()
                break
        try:
            saved = json.loads(request.GET.get("saved") or "null")
        except ValueError:
            saved = None
        inputs = TargetInputs(target, request.GET.get("context", "step"), saved, user=request.user)
        form = forms.Form()
        inputs.add_to(form)
        return render(
            request, "nautobot_jobflow/inc/target_input_rows.html", {"inputs": inputs, "rows": inputs.rows(form)}
        )
