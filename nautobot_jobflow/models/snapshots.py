"""Frozen definitions: a run executes the snapshot taken at launch, so editing a workflow never changes a run."""

from nautobot_jobflow.lib import graph as graph_utils
from nautobot_jobflow.models.workflows import WorkflowStep


def build_definition(workflow):
    """Plain-data copy of a workflow's steps and edges (JSON-serialisable)."""
    steps = {}
    for step in workflow.steps.select_related("job", "subworkflow", "job_queue", "responder_group"):
        steps[step.name] = {
            "kind": step.kind,
            "job": str(step.job_id) if step.job_id else None,
            "job_name": step.job.name if step.job_id else None,
            "job_supports_dryrun": bool(step.job.supports_dryrun) if step.job_id else False,
            "subworkflow": str(step.subworkflow_id) if step.subworkflow_id else None,
            "subworkflow_name": step.subworkflow.name if step.subworkflow_id else None,
            "input_templates": step.input_templates or {},
            "join_mode": step.join_mode,
            "max_retries": step.max_retries,
            "retry_backoff": step.retry_backoff,
            "timeout": step.timeout,
            "job_queue": str(step.job_queue_id) if step.job_queue_id else None,
            "for_each": step.for_each if step.for_each not in ("", [], {}) else None,
            "concurrency": step.concurrency,
            "max_failures": step.max_failures,
            "concurrency_key": step.concurrency_key,
            "concurrency_limit": step.concurrency_limit,
            # input steps (kind "input"); the engine reads them with .get(): older snapshots lack them
            "prompt": step.prompt,
            "answer_schema": step.answer_schema or {},
            "responder_group": step.responder_group_id,
            "responder_group_name": step.responder_group.name if step.responder_group_id else None,
            "min_responders": step.min_responders,
            "requester_may_answer": step.requester_may_answer,
        }
    edges = [
        {"source": edge.source.name, "target": edge.target.name, "trigger": edge.trigger, "condition": edge.condition}
        for edge in workflow.edges.select_related("source", "target").order_by("source__name", "target__name")
    ]
    graph = graph_utils.definition_graph({"steps": steps, "edges": edges})
    return {
        "workflow": str(workflow.pk),
        "name": workflow.name,
        "dryrun_mode": workflow.dryrun_mode,
        "outputs": workflow.output_templates or {},
        "steps": steps,
        "edges": edges,
        "order": graph_utils.topological_order(graph),
        "layers": graph_utils.layers(graph),
    }


def job_ids(definition):
    """Every Job pk a definition would start, nested workflows included (their current definitions)."""
    found = {spec["job"] for spec in definition["steps"].values() if spec["job"]}
    children = {spec["subworkflow"] for spec in definition["steps"].values() if spec["subworkflow"]}
    for nested in job_ids_by_workflow(children).values():
        found |= nested
    return found


def job_ids_by_workflow(workflow_ids):
    """{workflow pk: every Job pk its current definition would start, nested workflows included} (pks as strings).

    One query per level of nesting, however many workflows are asked about (a page showing many workflow buttons).
    """
    roots = [str(pk) for pk in workflow_ids]
    direct_jobs, children = {}, {}
    frontier = set(roots)
    while frontier:
        for pk in frontier:
            direct_jobs[pk], children[pk] = set(), set()
        steps = WorkflowStep.objects.filter(workflow__in=frontier)
        for workflow_id, job_id, subworkflow_id in steps.values_list("workflow_id", "job_id", "subworkflow_id"):
            if job_id:
                direct_jobs[str(workflow_id)].add(str(job_id))
            elif subworkflow_id:
                children[str(workflow_id)].add(str(subworkflow_id))
        frontier = set().union(*(children[pk] for pk in frontier)) - direct_jobs.keys()
    found = {}
    for root in roots:
        seen, todo, jobs = {root}, [root], set()
        while todo:
            current = todo.pop()
            jobs |= direct_jobs[current]
            for child in children[current] - seen:
                seen.add(child)
                todo.append(child)
        found[root] = jobs
    return found
