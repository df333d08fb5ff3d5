"""Detail layouts of the approvals: policy (what it covers, who approves, its requests) and launch request."""

from django.template.loader import render_to_string
from django.utils.html import format_html
from nautobot.apps.ui import ObjectDetailContent, ObjectFieldsPanel, ObjectsTablePanel, Panel, SectionChoices

from nautobot_jobflow import forms, tables
from nautobot_jobflow.approvals.preview import preview_for
from nautobot_jobflow.details.common import linked_objects, pretty_json


def _linked_or_every(noun):
    """Render a policy's Jobs or Workflows (a related manager) as links; none chosen means every one is covered."""
    return linked_objects(empty=format_html('<span class="text-muted">Every {}</span>', noun))


class ApprovalPanel(Panel):
    """Stages, preview and the decision form of a request, rendered from a template."""

    label = "Approval"

    def render_body_content(self, context):
        """Core's stages and responses, the preview, and approve/deny/comment/cancel for this user."""
        launch_request = context["object"]
        request = context["request"]
        approval_workflow = launch_request.approval_workflow
        stages = []
        if approval_workflow is not None:
            for stage in approval_workflow.approval_workflow_stages.select_related(
                "approval_workflow_stage_definition__approver_group"
            ).order_by("approval_workflow_stage_definition__sequence"):
                responses = stage.approval_workflow_stage_responses.select_related("user").order_by("last_updated")
                stages.append((stage, list(responses)))
        return render_to_string(
            "nautobot_jobflow/inc/launch_request_approval.html",
            {
                "launch_request": launch_request,
                "approval_workflow": approval_workflow,
                "stages": stages,
                "preview": preview_for(launch_request),
                "form": forms.ApprovalDecisionForm(),
                "is_requester": launch_request.user_id == request.user.pk,
            },
            request=request,
        )


approval_policy = ObjectDetailContent(
    panels=(
        ObjectFieldsPanel(
            weight=100,
            section=SectionChoices.LEFT_HALF,
            fields=[
                "name",
                "description",
                "enabled",
                "weight",
                "applies_to",
                "jobs",
                "workflows",
                "origins",
                "dryrun_exempt",
                "git_repository",
                "git_path",
            ],
            hide_if_unset=["git_repository", "git_path"],
            value_transforms={"jobs": [_linked_or_every("Job")], "workflows": [_linked_or_every("Workflow")]},
        ),
        ObjectFieldsPanel(
            weight=200,
            section=SectionChoices.RIGHT_HALF,
            label="Who approves, until when",
            fields=[
                "approval_workflow_definition",
                "expiry_minutes",
                "allow_self_approval",
                "require_preview",
                "object_content_type",
                "object_filter",
                "min_objects",
            ],
            value_transforms={"object_filter": [pretty_json]},
        ),
        ObjectsTablePanel(
            weight=300,
            section=SectionChoices.FULL_WIDTH,
            table_class=tables.LaunchRequestTable,
            table_filter="policy",
            table_title="Requests",
            exclude_columns=["policy"],
            add_button_route=None,
        ),
    )
)

launch_request = ObjectDetailContent(
    panels=(
        ObjectFieldsPanel(
            weight=100,
            section=SectionChoices.LEFT_HALF,
            fields=[
                "target_name",
                "job",
                "workflow",
                "status",
                "user",
                "origin",
                "dryrun",
                "policy",
                "expires_at",
                "decided",
                "message",
                "workflow_run",
                "step_run",
                "job_result",
            ],
        ),
        ObjectFieldsPanel(
            weight=200,
            section=SectionChoices.RIGHT_HALF,
            label="Inputs",
            fields=["inputs"],
            value_transforms={"inputs": [pretty_json]},
        ),
        ApprovalPanel(weight=100, section=SectionChoices.FULL_WIDTH),
        ObjectsTablePanel(
            weight=200,
            section=SectionChoices.FULL_WIDTH,
            table_class=tables.ApprovalEventTable,
            table_filter="request",
            table_title="Audit trail",
            exclude_columns=["request"],
            select_related_fields=["preview_job_result", "preview_run"],
            add_button_route=None,
            enable_related_link=False,
        ),
    )
)
