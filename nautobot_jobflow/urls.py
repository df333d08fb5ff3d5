"""UI URLs of nautobot-jobflow, under /plugins/jobflow/."""

from django.apps import apps
from django.urls import path
from django.views.generic import RedirectView
from nautobot.apps.urls import NautobotUIViewSetRouter

from nautobot_jobflow import views

app_name = "nautobot_jobflow"

router = NautobotUIViewSetRouter()
# Workflows
router.register("workflows", views.WorkflowUIViewSet)
router.register("workflow-steps", views.WorkflowStepUIViewSet)
router.register("workflow-edges", views.WorkflowEdgeUIViewSet)
router.register("workflow-runs", views.WorkflowRunUIViewSet)
router.register("workflow-buttons", views.WorkflowButtonUIViewSet)
# Approvals
router.register("approval-policies", views.ApprovalPolicyUIViewSet)
router.register("launch-requests", views.LaunchRequestUIViewSet)
# Hook rules
router.register("hook-rules", views.HookRuleUIViewSet)

urlpatterns = [
    path("", views.JobflowHomeView.as_view(), name="home"),
    path("target-inputs/", views.TargetInputsView.as_view(), name="target_inputs"),
    # The docs link of the installed-apps page: core's AppDocsView serves the built site from inside the installed
    # package (nautobot_jobflow/docs/, written by `invoke docs` / `invoke build`) at /docs/jobflow/, login required,
    # in any install (no collectstatic, no web server configuration).
    path(
        "docs/",
        RedirectView.as_view(pattern_name="docs_index_redirect"),
        {"app_base_url": apps.get_app_config(app_name).base_url},
        name="docs",
    ),
    path("awaiting-input/", views.AwaitingInputView.as_view(), name="awaiting_input"),
    path(
        "workflow-buttons/<uuid:pk>/press/",
        views.WorkflowButtonPressView.as_view(),
        name="workflowbutton_press",
    ),
    *router.urls,
]
