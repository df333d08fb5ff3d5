"""REST API routes of nautobot-jobflow (``plugins-api:nautobot_jobflow-api:<model>-list|detail``)."""

from nautobot.apps.api import OrderedDefaultRouter

from nautobot_jobflow.api import views

router = OrderedDefaultRouter()
# Workflows
router.register("workflows", views.WorkflowViewSet)
router.register("workflow-steps", views.WorkflowStepViewSet)
router.register("workflow-edges", views.WorkflowEdgeViewSet)
router.register("workflow-runs", views.WorkflowRunViewSet)
router.register("workflow-step-runs", views.WorkflowStepRunViewSet)
router.register("step-input-responses", views.StepInputResponseViewSet)
router.register("workflow-buttons", views.WorkflowButtonViewSet)
# Approvals
router.register("approval-policies", views.ApprovalPolicyViewSet)
router.register("launch-requests", views.LaunchRequestViewSet)
router.register("approval-events", views.ApprovalEventViewSet)
# Hook rules
router.register("hook-rules", views.HookRuleViewSet)
router.register("hook-firings", views.HookFiringViewSet)
router.register("hook-windows", views.HookWindowViewSet)

app_name = "nautobot_jobflow-api"
urlpatterns = router.urls
