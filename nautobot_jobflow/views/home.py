"""The landing page of nautobot-jobflow."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.views.generic import TemplateView
from nautobot.extras.models import Job


class JobflowHomeView(LoginRequiredMixin, TemplateView):
    """The app's landing page: what it provides and the Jobs it ships, restricted to what the user may see."""

    template_name = "nautobot_jobflow/home.html"

    def get_context_data(self, **kwargs):
        """Add the app's Jobs the user may view."""
        context = super().get_context_data(**kwargs)
        context["title"] = "Jobflow"
        context["app_jobs"] = (
            Job.objects.restrict(self.request.user, "view")
            .filter(module_name__startswith="nautobot_jobflow.")
            .order_by("grouping", "name")
        )
        return context
