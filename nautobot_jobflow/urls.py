"""UI URLs of nautobot-jobflow, under /plugins/jobflow/."""

from django.templatetags.static import static
from django.urls import path
from django.views.generic import RedirectView

from nautobot_jobflow import views

app_name = "nautobot_jobflow"

urlpatterns = [
    path("", views.JobflowHomeView.as_view(), name="home"),
    path("docs/", RedirectView.as_view(url=static("nautobot_jobflow/docs/index.html")), name="docs"),
]
