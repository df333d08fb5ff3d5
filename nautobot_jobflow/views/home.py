"""The landing page of nautobot-jobflow."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.views.generic import TemplateView
from nautobot.extras.models import Job, Tag

from nautobot_jobflow.models import ApprovalPolicy, HookRule, Workflow, WorkflowButton

# The tag `invoke demo-data` puts on the demo's workflows, hook rules, workflow buttons and approval policy
# (development/demo_content.py).
DEMO_TAG_NAME = "Jobflow demo"


def demo_content(user):
    """What the demo holds that ``user`` may see, by kind; None when the demo is not loaded.

    A workflow button gets ``pages``: the object types on whose pages it shows, as text ("Devices").
    """
    tag = Tag.objects.filter(name=DEMO_TAG_NAME).first()
    if tag is None:
        return None
    kinds = (("workflows", Workflow), ("hook_rules", HookRule), ("policies", ApprovalPolicy))
    content = {
        kind: list(model.objects.restrict(user, "view").filter(tags=tag).only("pk", "name", "description"))
        for kind, model in kinds
    }
    buttons = (
        WorkflowButton.objects.restrict(user, "view")
        .filter(tags=tag)
        .select_related("workflow")
        .prefetch_related("content_types")
    )
    content["buttons"] = list(buttons)
    for button in content["buttons"]:
        models = (content_type.model_class() for content_type in button.content_types.all())
        button.pages = ", ".join(sorted(str(model._meta.verbose_name_plural) for model in models if model))
    return content if any(content.values()) else None


class JobflowHomeView(LoginRequiredMixin, TemplateView):
    """The app's landing page: what it provides, the demo content when it is loaded, the Jobs it ships."""

    template_name = "nautobot_jobflow/home.html"

    def get_context_data(self, **kwargs):
        """Add the app's Jobs and the demo content the user may view."""
        context = super().get_context_data(**kwargs)
        context["title"] = "Jobflow"
        context["app_jobs"] = (
            Job.objects.restrict(self.request.user, "view")
            .filter(module_name__startswith="nautobot_jobflow.")
            .order_by("grouping", "name")
        )
        context["demo"] = demo_content(self.request.user)
        return context
