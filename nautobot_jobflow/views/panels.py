"""UI components the framework lacks: the workflow graph panel, state-dependent POST buttons, linked M2M values."""

from django.urls import reverse
from django.utils.html import format_html, format_html_join
from nautobot.apps.ui import Panel, PostButton, SectionChoices
from nautobot.core.templatetags import helpers

from nautobot_jobflow import graph_svg
from nautobot_jobflow.models.snapshots import build_definition

REFRESH_SECONDS = 3
REFRESH_SCRIPT = '{}<script id="jobflow-refresh">setTimeout(function () {{ window.location.reload(); }}, {});</script>'


def run_graph_data(run):
    """Statuses and links per step of a run: the latest attempt of each step wins."""
    statuses, links = {}, {}
    step_runs = run.step_runs.select_related("job_result").prefetch_related("child_runs").order_by("attempt")
    for step_run in step_runs:
        statuses[step_run.step_name] = step_run.status
        children = list(step_run.child_runs.all())
        if children:
            links[step_run.step_name] = reverse("plugins:nautobot_jobflow:workflowrun", kwargs={"pk": children[0].pk})
        elif step_run.job_result_id:
            links[step_run.step_name] = step_run.job_result.get_absolute_url()
    return statuses, links


class WorkflowGraphPanel(Panel):
    """The DAG of a workflow (its current definition) or of a run (its snapshot, nodes coloured by status)."""

    label = "Graph"
    section = SectionChoices.FULL_WIDTH

    def render_body_content(self, context):
        """Inline SVG; on an active run, a small script reloads the page every few seconds."""
        obj = context["object"]
        if hasattr(obj, "step_runs"):  # a WorkflowRun
            statuses, links = run_graph_data(obj)
            svg = graph_svg.render_graph(obj.definition or {}, statuses=statuses, links=links)
            if obj.is_active:
                return format_html(REFRESH_SCRIPT, svg, REFRESH_SECONDS * 1000)
            return svg
        return graph_svg.render_graph(build_definition(obj))


class ConditionalPostButton(PostButton):
    """A POST button rendered only when ``condition(obj)`` is true (and the user has its permissions)."""

    condition = None

    def should_render(self, context):
        """Permissions, then the object's state."""
        if not super().should_render(context):
            return False
        obj = context.get("object")
        return obj is not None and (self.condition is None or self.condition(obj))


def linked_objects(empty=None):
    """A fields-panel value transform: a related manager's objects as links (core would print "extras.Job.None").

    ``empty``: what to show when there are none (default: core's muted placeholder).
    """

    def render(manager):
        objects = list(manager.all())
        if not objects:
            return helpers.placeholder(None) if empty is None else empty
        return format_html_join(", ", "{}", ((helpers.hyperlinked_object(obj),) for obj in objects))

    return render
