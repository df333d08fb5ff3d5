"""The server-side SVG drawing of workflow graphs."""

import re

from nautobot.apps.testing import TestCase

from nautobot_jobflow.choices import EdgeTriggerChoices, StepRunStatusChoices
from nautobot_jobflow.graph_svg import NODE_WIDTH, render_graph
from nautobot_jobflow.models.snapshots import build_definition
from tests.fixtures_workflows import add_edge, add_step, create_workflow

DIAMOND = {
    "steps": {name: {"job_name": f"Job {name}"} for name in ("a", "b", "c", "d")},
    "edges": [
        {"source": "a", "target": "b", "trigger": EdgeTriggerChoices.ON_SUCCESS},
        {"source": "a", "target": "c", "trigger": EdgeTriggerChoices.ON_FAILURE},
        {"source": "b", "target": "d", "trigger": EdgeTriggerChoices.ALWAYS},
        {"source": "c", "target": "d", "trigger": EdgeTriggerChoices.CONDITION, "condition": "steps.c.result.ok"},
    ],
    "layers": [["a"], ["b", "c"], ["d"]],
}


def node_x(svg, name):
    match = re.search(rf'data-step="{name}".*?<rect x="(\d+)"', svg)
    return int(match.group(1))


class GraphSvgTest(TestCase):
    def test_columns_follow_layers(self):
        svg = render_graph(DIAMOND)
        self.assertTrue(svg.startswith("<svg"))
        self.assertEqual(svg.count('class="jobflow-node"'), 4)
        self.assertEqual(svg.count('class="jobflow-edge"'), 4)
        self.assertLess(node_x(svg, "a"), node_x(svg, "b"))
        self.assertEqual(node_x(svg, "b"), node_x(svg, "c"))
        self.assertGreaterEqual(node_x(svg, "d") - node_x(svg, "b"), NODE_WIDTH)

    def test_labels_show_step_job_and_trigger(self):
        svg = render_graph(DIAMOND)
        self.assertIn(">Job a<", svg)
        self.assertIn("On failure", svg)
        self.assertIn("Always", svg)
        self.assertIn("if steps.c.result.ok", svg)

    def test_text_is_escaped(self):
        evil = '<script>alert("x")</script>'
        definition = {"steps": {evil: {"job_name": "<b>job</b>"}}, "edges": [], "layers": [[evil]]}
        svg = render_graph(definition, links={evil: 'javascript:"><x'})
        self.assertNotIn("<script>", svg)
        self.assertNotIn("<b>", svg)
        self.assertIn("&lt;script&gt;", svg)
        self.assertIn("&quot;&gt;&lt;x", svg)

    def test_status_colours_and_links(self):
        svg = render_graph(
            DIAMOND,
            statuses={"a": StepRunStatusChoices.SUCCEEDED, "c": StepRunStatusChoices.FAILED},
            links={"a": "/extras/job-results/1/"},
        )
        self.assertIn(f'fill="{StepRunStatusChoices.COLORS["succeeded"]}"', svg)
        self.assertIn(f'fill="{StepRunStatusChoices.COLORS["failed"]}"', svg)
        self.assertIn('<a href="/extras/job-results/1/"><g class="jobflow-node" data-step="a"', svg)
        self.assertNotIn('<a href="/extras/job-results/1/"><g class="jobflow-node" data-step="b"', svg)

    def test_empty_definition(self):
        self.assertIn("No steps yet", render_graph({"steps": {}, "edges": [], "layers": []}))

    def test_drawn_from_a_real_workflow_definition(self):
        workflow = create_workflow("svg-wf", steps=("first", "second"))
        add_step(workflow, "other", "Noop")
        add_edge(workflow, "first", "other", EdgeTriggerChoices.ON_FAILURE)
        svg = render_graph(build_definition(workflow))
        self.assertEqual(node_x(svg, "second"), node_x(svg, "other"))
        self.assertIn(">Echo<", svg)
        self.assertIn(">No-op<", svg)
