"""Content the app adds to core's object pages: the workflow buttons on the detail pages of their object types.

Nautobot looks for ``template_extensions`` here (``NautobotAppConfig.template_extensions``). A TemplateExtension
applies to one model, and a workflow button may target any change-logged model, so there is one extension per
change-logged model (built when the app is ready, from Django's model registry: no database query), each with the
same ``WorkflowButtons`` component in ``object_detail_buttons``. That component renders the enabled buttons of the
page's object type, with the buttons of the same group as one dropdown, as core renders its job buttons.

Buttons whose workflow the user may not run (one of its Jobs: ``launching.permissions``) are not shown; buttons
whose workflow cannot start for another reason (disabled, a Job disabled or not installed) are shown disabled, with
the reason as their title. The page costs the same number of queries however many buttons it shows: the buttons of
a type are read once per request, with their workflows, and the run permission of all their Jobs is asked at once.
"""

from django.contrib.contenttypes.models import ContentType
from django.template.loader import render_to_string
from django.urls import reverse
from nautobot.apps.ui import Button, TemplateExtension
from nautobot.extras.utils import ChangeLoggedModelsQuery

from nautobot_jobflow.launching.permissions import workflow_launch_problems
from nautobot_jobflow.lib.errors import LaunchForbidden, refusal_text
from nautobot_jobflow.models import WorkflowButton

TEMPLATE = "nautobot_jobflow/inc/workflow_buttons.html"
REQUEST_CACHE = "_jobflow_workflow_buttons"  # attribute of the request: {content type pk: [(button, reason)]}


def buttons_for(request, content_type):
    """The (button, reason) pairs the request's user sees for ``content_type``; ``reason`` says why it is disabled.

    Read once per request and content type.
    """
    cache = request.__dict__.setdefault(REQUEST_CACHE, {})
    if content_type.pk not in cache:
        buttons = list(
            WorkflowButton.objects.filter(content_types=content_type, enabled=True).select_related("workflow")
        )
        problems = workflow_launch_problems([button.workflow for button in buttons], request.user) if buttons else {}
        shown = []
        for button in buttons:
            problem = problems[button.workflow.pk]
            if isinstance(problem, LaunchForbidden):
                continue
            if not button.workflow.enabled:
                reason = f"Workflow '{button.workflow}' is disabled."
            else:
                reason = refusal_text(problem) if problem is not None else ""
            shown.append((button, reason))
        cache[content_type.pk] = shown
    return cache[content_type.pk]


class WorkflowButtons(Button):
    """All workflow buttons of the page's object type (one component renders them all, grouped)."""

    def __init__(self, **kwargs):
        """A fixed label: the buttons' own texts are rendered, not this."""
        super().__init__(label="Workflow buttons", **kwargs)

    def render(self, context):
        """The buttons, then their forms and confirmation dialogs (outside the dropdowns, as core's job buttons)."""
        obj = context.get("object")
        request = context.get("request")
        if obj is None or request is None or not getattr(obj, "pk", None):
            return ""
        content_type = ContentType.objects.get_for_model(obj)
        entries = [
            {
                "button": button,
                "reason": reason,
                "action": reverse("plugins:nautobot_jobflow:workflowbutton_press", kwargs={"pk": button.pk}),
            }
            for button, reason in buttons_for(request, content_type)
        ]
        if not entries:
            return ""
        groups = {}
        for entry in entries:
            groups.setdefault(entry["button"].group_name, []).append(entry)
        return render_to_string(
            TEMPLATE,
            {
                "object": obj,
                "object_type": f"{content_type.app_label}.{content_type.model}",
                "ungrouped": groups.pop("", []),
                "groups": [
                    {"name": name, "css_class": members[0]["button"].button_class_css_class, "entries": members}
                    for name, members in groups.items()
                ],
                "entries": entries,
                "csrf_token": context.get("csrf_token"),
            },
        )


WORKFLOW_BUTTONS = WorkflowButtons(weight=500)


def _extension(model):
    label = model._meta.label_lower
    return type(
        f"WorkflowButtons_{label.replace('.', '_')}",
        (TemplateExtension,),
        {
            "__doc__": f"Workflow buttons on {label} pages.",
            "__module__": __name__,
            "model": label,
            "object_detail_buttons": [WORKFLOW_BUTTONS],
        },
    )


template_extensions = [_extension(model) for model in ChangeLoggedModelsQuery().list_subclasses()]
