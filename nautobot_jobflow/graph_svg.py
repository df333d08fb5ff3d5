"""Server-side SVG drawing of a workflow graph: one column per networkx layer, a box per step, arrows per edge.

Input is a definition as built by ``engine.snapshot.build_definition`` (``steps``, ``edges``, ``layers``), so the
same code draws a workflow (its current definition) and a run (its frozen snapshot). Every piece of text is
escaped; the result is safe to embed in a page.
"""

from django.utils.html import escape
from django.utils.safestring import mark_safe

from nautobot_jobflow.choices import EdgeTriggerChoices, StepKindChoices, StepRunStatusChoices

NODE_WIDTH = 180
NODE_HEIGHT = 52
COLUMN_GAP = 90
ROW_GAP = 28
MARGIN = 20
MAX_LABEL = 26
DEFAULT_FILL = "#ffffff"
TRIGGER_LABELS = dict(EdgeTriggerChoices.CHOICES)
TRIGGER_COLORS = {
    EdgeTriggerChoices.ON_SUCCESS: "#2e7d32",
    EdgeTriggerChoices.ON_FAILURE: "#c62828",
    EdgeTriggerChoices.ALWAYS: "#455a64",
    EdgeTriggerChoices.CONDITION: "#6a1b9a",
}


def _short(text, limit=MAX_LABEL):
    text = str(text or "")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _positions(layers):
    """Top-left corner of every step's box, and the canvas size."""
    positions = {}
    tallest = max((len(layer) for layer in layers), default=0)
    for column, layer in enumerate(layers):
        offset = (tallest - len(layer)) * (NODE_HEIGHT + ROW_GAP) / 2
        for row, name in enumerate(layer):
            x = MARGIN + column * (NODE_WIDTH + COLUMN_GAP)
            y = MARGIN + offset + row * (NODE_HEIGHT + ROW_GAP)
            positions[name] = (x, y)
    width = MARGIN * 2 + max(len(layers), 1) * NODE_WIDTH + max(len(layers) - 1, 0) * COLUMN_GAP
    height = MARGIN * 2 + max(tallest, 1) * NODE_HEIGHT + max(tallest - 1, 0) * ROW_GAP
    return positions, width, height


def _target_label(spec):
    if spec.get("kind") == StepKindChoices.INPUT:
        return f"Input: {spec.get('responder_group_name') or '?'}"
    if spec.get("subworkflow_name"):
        return f"Workflow {spec['subworkflow_name']}"
    return spec.get("job_name") or "—"


def render_graph(definition, statuses=None, links=None, element_id="jobflow-graph", counters=None):
    """The SVG markup (a SafeString) of a workflow definition.

    Args:
        definition (dict): ``steps`` (name to spec), ``edges`` (source, target, trigger) and ``layers``.
        statuses (dict, optional): step name to a ``StepRunStatusChoices`` value; colours the nodes.
        links (dict, optional): step name to a URL the node links to (a JobResult or a nested run).
        counters (dict, optional): step name to a for-each counter ('12/40 ✓ 11 ✗ 1'), shown instead of the Job.
        element_id (str): HTML id of the ``<svg>`` element.
    """
    statuses = statuses or {}
    links = links or {}
    counters = counters or {}
    steps = definition.get("steps") or {}
    layers = definition.get("layers") or ([sorted(steps)] if steps else [])
    if not steps:
        return mark_safe('<p class="text-muted">No steps yet.</p>')
    positions, width, height = _positions(layers)
    parts = [
        f'<svg id="{escape(element_id)}" xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
        'aria-label="Workflow graph" style="max-width:100%;font-family:sans-serif">',
        '<defs><marker id="jobflow-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#455a64"/></marker></defs>',
    ]
    for edge in definition.get("edges") or []:
        if edge["source"] not in positions or edge["target"] not in positions:
            continue
        sx, sy = positions[edge["source"]]
        tx, ty = positions[edge["target"]]
        x1, y1 = sx + NODE_WIDTH, sy + NODE_HEIGHT / 2
        x2, y2 = tx, ty + NODE_HEIGHT / 2
        color = TRIGGER_COLORS.get(edge.get("trigger"), "#455a64")
        label = TRIGGER_LABELS.get(edge.get("trigger"), edge.get("trigger") or "")
        if edge.get("trigger") == EdgeTriggerChoices.CONDITION and edge.get("condition"):
            label = f"if {_short(edge['condition'], 20)}"
        parts.append(
            f'<g class="jobflow-edge" data-source="{escape(edge["source"])}" data-target="{escape(edge["target"])}">'
            f'<line x1="{x1:.0f}" y1="{y1:.0f}" x2="{x2:.0f}" y2="{y2:.0f}" stroke="{color}" stroke-width="1.5" '
            'marker-end="url(#jobflow-arrow)"/>'
            f'<text x="{(x1 + x2) / 2:.0f}" y="{(y1 + y2) / 2 - 4:.0f}" font-size="10" text-anchor="middle" '
            f'fill="{color}">{escape(label)}</text></g>'
        )
    for name, (x, y) in positions.items():
        spec = steps.get(name, {})
        status = statuses.get(name)
        fill = StepRunStatusChoices.COLORS.get(status, DEFAULT_FILL)
        title = name if status is None else f"{name}: {StepRunStatusChoices.as_dict().get(status, status)}"
        node = (
            f'<g class="jobflow-node" data-step="{escape(name)}" data-status="{escape(status or "")}">'
            f"<title>{escape(title)}</title>"
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{NODE_WIDTH}" height="{NODE_HEIGHT}" rx="6" ry="6" '
            f'fill="{fill}" stroke="#37474f" stroke-width="1"/>'
            f'<text x="{x + 10:.0f}" y="{y + 21:.0f}" font-size="13" font-weight="bold">{escape(_short(name))}</text>'
            f'<text x="{x + 10:.0f}" y="{y + 40:.0f}" font-size="11" fill="#37474f">'
            f"{escape(counters.get(name) or _short(_target_label(spec)))}</text></g>"
        )
        if links.get(name):
            node = f'<a href="{escape(links[name])}">{node}</a>'
        parts.append(node)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above
