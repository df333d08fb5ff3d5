"""Template tags for approval pages: the dry-run preview of a launch request."""

from django import template

from nautobot_jobflow.approvals.preview import preview_for

register = template.Library()


@register.inclusion_tag("nautobot_jobflow/inc/approval_preview.html")
def approval_preview(launch_request):
    """Render the request's preview (state, link and log lines), or say that none exists."""
    return {"preview": preview_for(launch_request)}
