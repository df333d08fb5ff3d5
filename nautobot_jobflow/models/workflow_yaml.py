"""Workflow definitions as YAML: export one workflow, import (create or update) one: the UI, REST and Git path.

Format::

    name: Provision
    description: ...
    enabled: true
    input_schema: {...}
    default_inputs: {...}
    dryrun_mode: skip
    steps:
      - name: check
        job: my_module.CheckJob        # the Job's class path, or
        workflow: Other workflow       # a nested workflow by name
        inputs: {hostname: "{{ inputs.hostname }}"}
        join: all
        retries: 0
        backoff: 0
        timeout: 600
        queue: default
      - name: approve
        kind: input                    # waits for people instead of running a Job
        prompt: "Deploy to {{ inputs.hostname }}?"
        answer_schema: {type: object, required: [go], properties: {go: {type: boolean}}}
        responders: Network approvers  # the group whose members may answer
        min_responders: 1
        requester_may_answer: false
        timeout: 3600
    edges:
      - {from: check, to: deploy, trigger: on-success}
      - {from: deploy, to: notify, trigger: condition, condition: "steps.deploy.result.changed"}
"""

from dataclasses import dataclass

import yaml
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from nautobot.extras.models import Job, JobQueue

from nautobot_jobflow.choices import DryRunModeChoices, EdgeTriggerChoices, JoinModeChoices, StepKindChoices
from nautobot_jobflow.lib.errors import refusal_text
from nautobot_jobflow.models.git_owned import claim, save_if_changed
from nautobot_jobflow.models.workflow_checks import validate_definition
from nautobot_jobflow.models.workflows import Workflow, WorkflowEdge, WorkflowStep

WORKFLOW_KEYS = {
    "name", "description", "enabled", "input_schema", "default_inputs", "outputs", "dryrun_mode", "steps", "edges"
}  # fmt: skip
STEP_KEYS = {
    "name", "job", "workflow", "inputs", "join", "retries", "backoff", "timeout", "queue",
    "for_each", "concurrency", "max_failures", "concurrency_key", "key_limit",
}  # fmt: skip
INPUT_STEP_KEYS = {"kind", "prompt", "answer_schema", "responders", "min_responders", "requester_may_answer"}
EDGE_KEYS = {"from", "to", "trigger", "condition"}


def export_workflow(workflow):
    """The YAML text of a workflow, its steps and edges."""
    steps = []
    for step in workflow.steps.select_related("job", "subworkflow", "job_queue", "responder_group").order_by("name"):
        item = {"name": step.name}
        if step.kind == StepKindChoices.INPUT:
            item.update(_export_input_step(step))
        if step.job_id:
            item["job"] = f"{step.job.module_name}.{step.job.job_class_name}"
        if step.subworkflow_id:
            item["workflow"] = step.subworkflow.name
        if step.input_templates:
            item["inputs"] = step.input_templates
        if step.join_mode != JoinModeChoices.ALL:
            item["join"] = step.join_mode
        if step.max_retries:
            item["retries"] = step.max_retries
        if step.retry_backoff:
            item["backoff"] = step.retry_backoff
        if step.timeout:
            item["timeout"] = step.timeout
        if step.for_each not in (None, "", [], {}):
            item["for_each"] = step.for_each
        if step.concurrency:
            item["concurrency"] = step.concurrency
        if step.max_failures:
            item["max_failures"] = step.max_failures
        if step.concurrency_key:
            item["concurrency_key"] = step.concurrency_key
            if step.concurrency_limit != 1:
                item["key_limit"] = step.concurrency_limit
        if step.job_queue_id:
            item["queue"] = step.job_queue.name
        steps.append(item)
    edges = []
    for edge in workflow.edges.select_related("source", "target").order_by("source__name", "target__name"):
        item = {"from": edge.source.name, "to": edge.target.name, "trigger": edge.trigger}
        if edge.condition:
            item["condition"] = edge.condition
        edges.append(item)
    document = {
        "name": workflow.name,
        "description": workflow.description,
        "enabled": workflow.enabled,
        "input_schema": workflow.input_schema or {},
        "default_inputs": workflow.default_inputs or {},
        "dryrun_mode": workflow.dryrun_mode,
        "steps": steps,
        "edges": edges,
    }
    if workflow.output_templates:
        document["outputs"] = workflow.output_templates
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, default_flow_style=False)


def _export_input_step(step):
    """The keys of an input step (kind, prompt, answer schema, responders; defaults left out)."""
    item = {"kind": StepKindChoices.INPUT, "prompt": step.prompt}
    if step.answer_schema:
        item["answer_schema"] = step.answer_schema
    if step.responder_group_id:
        item["responders"] = step.responder_group.name
    if step.min_responders != 1:
        item["min_responders"] = step.min_responders
    if step.requester_may_answer:
        item["requester_may_answer"] = True
    return item


def _input_step_fields(spec, where):
    """WorkflowStep fields from a step's input-step keys (``kind``, ``responders`` by group name, ...)."""
    kind = spec.get("kind")
    if kind is not None and kind not in StepKindChoices.values():
        raise _problem(where, f"unknown kind '{kind}'; allowed: {', '.join(StepKindChoices.values())}.")
    fields = {
        "kind": kind or StepKindChoices.JOB,
        "prompt": spec.get("prompt") or "",
        "answer_schema": spec.get("answer_schema") or {},
        "min_responders": spec.get("min_responders", 1),
        "requester_may_answer": bool(spec.get("requester_may_answer", False)),
        "responder_group": None,
    }
    if spec.get("responders"):
        group = Group.objects.filter(name=spec["responders"]).first()
        if group is None:
            raise _problem(where, f"responders: no group named '{spec['responders']}'.")
        fields["responder_group"] = group
    return fields


def _problem(where, message):
    return ValidationError(f"{where}: {message}" if where else message)


def parse_workflow(text):
    """The document of a workflow's YAML text, its shape checked (names as text); ValidationError naming the place."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise _problem("YAML", f"cannot be parsed: {error}") from None
    if not isinstance(document, dict):
        raise _problem("YAML", "the document must be a mapping with at least 'name' and 'steps'.")
    unknown = sorted(set(document) - WORKFLOW_KEYS)
    if unknown:
        raise _problem("YAML", f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(WORKFLOW_KEYS))}.")
    if not document.get("name") or not isinstance(document["name"], str):
        raise _problem("name", "a workflow needs a name (text).")
    for key in ("steps", "edges"):
        if not isinstance(document.get(key) or [], list):
            raise _problem(key, "must be a list.")
    for index, step in enumerate(document.get("steps") or []):
        if not isinstance(step, dict) or not step.get("name"):
            raise _problem(f"steps[{index}]", "each step must be a mapping with a name.")
        extra = sorted(set(step) - STEP_KEYS - INPUT_STEP_KEYS)
        if extra:
            raise _problem(f"step '{step['name']}'", f"unknown key(s) {', '.join(extra)}.")
        step["name"] = str(step["name"])
    for index, edge in enumerate(document.get("edges") or []):
        if not isinstance(edge, dict) or not edge.get("from") or not edge.get("to"):
            raise _problem(f"edges[{index}]", "each edge must be a mapping with 'from' and 'to'.")
        extra = sorted(set(edge) - EDGE_KEYS)
        if extra:
            raise _problem(f"edges[{index}]", f"unknown key(s) {', '.join(extra)}.")
        edge["from"], edge["to"] = str(edge["from"]), str(edge["to"])
    return document


def nested_workflow_names(document):
    """Names of the workflows a parsed document runs as steps (a sync applies those first)."""
    return {str(step["workflow"]) for step in document.get("steps") or [] if step.get("workflow")}


def _job(class_path, where):
    module_name, _, class_name = str(class_path).rpartition(".")
    job = Job.objects.filter(module_name=module_name, job_class_name=class_name).first()
    if job is None:
        raise _problem(where, f"job: no installed Job with class path '{class_path}'.")
    return job


def _subworkflow(name, where):
    child = Workflow.objects.filter(name=name).first()
    if child is None:
        raise _problem(where, f"workflow: no workflow named '{name}'.")
    return child


def _queue(name, where):
    queue = JobQueue.objects.filter(name=name).first()
    if queue is None:
        raise _problem(where, f"queue: no job queue named '{name}'.")
    return queue


def _validator(where):
    """full_clean(), its field errors as one ValidationError that names ``where``."""

    def validate(instance):
        try:
            instance.full_clean()
        except ValidationError as error:
            raise _problem(where, refusal_text(error)) from None

    return validate


@dataclass(frozen=True)
class ImportOutcome:
    """What an import did: the workflow, whether it was created, whether anything was written."""

    workflow: Workflow
    created: bool
    changed: bool


def import_workflow(text, user=None):
    """Create the workflow a YAML document describes, or replace the steps and edges of the one with its name."""
    return apply_workflow_yaml(text, user=user).workflow


def apply_workflow_yaml(text, user=None, repository=None, path=""):
    """Parse a workflow's YAML and apply it (see ``apply_workflow_document``)."""
    return apply_workflow_document(parse_workflow(text), user=user, repository=repository, path=path)


def apply_workflow_document(document, user=None, repository=None, path=""):
    """Create or update the workflow of a parsed document: the one code path of the UI, REST and Git imports.

    Everything happens in one transaction: on any error nothing is changed. Only what differs is written (the
    workflow's fields, each step, each edge), so applying an unchanged document writes nothing.
    ``user``: the importing user; creating needs add permission, replacing change permission (PermissionDenied).
    ``repository`` / ``path``: a Git sync, which owns what it writes; without one a Git-owned workflow is refused
    (GitManaged), and a repository may not take over a name it does not own (ValidationError naming ``name``).
    """
    steps = document.get("steps") or []
    edges = document.get("edges") or []
    validate_definition(
        [{"name": step["name"]} for step in steps],
        [
            {
                "source": edge["from"],
                "target": edge["to"],
                "trigger": edge.get("trigger", EdgeTriggerChoices.ON_SUCCESS),
                "condition": edge.get("condition", ""),
            }
            for edge in edges
        ],
    )
    with transaction.atomic():
        workflow = claim(Workflow, document["name"], repository)
        created = not workflow.present_in_database
        values = {
            "description": document.get("description") or "",
            "enabled": bool(document.get("enabled", True)),
            "input_schema": document.get("input_schema") or {},
            "default_inputs": document.get("default_inputs") or {},
            "dryrun_mode": document.get("dryrun_mode") or DryRunModeChoices.SKIP,
            "output_templates": document.get("outputs") or {},
            "git_repository": repository,
            "git_path": path if repository is not None else "",
        }
        changed = save_if_changed(workflow, values, _validator("workflow"))
        changed = _apply_steps_and_edges(workflow, steps, edges) or changed
        if user is not None:
            needed = "add" if created else "change"
            if not Workflow.objects.restrict(user, needed).filter(pk=workflow.pk).exists():
                raise PermissionDenied(f"You may not {'create' if created else 'change'} the workflow '{workflow}'.")
    return ImportOutcome(workflow, created, changed)


def _apply_steps_and_edges(workflow, steps, edges):
    """Delete the edges and steps the document no longer has, then create or update the others. True if any write."""
    changed = False
    wanted_pairs = {(edge["from"], edge["to"]) for edge in edges}
    for edge in workflow.edges.select_related("source", "target"):
        if (edge.source.name, edge.target.name) not in wanted_pairs:
            edge.delete()
            changed = True
    for step in workflow.steps.exclude(name__in=[step["name"] for step in steps]):
        step.delete()
        changed = True
    existing = {step.name: step for step in workflow.steps.all()}
    by_name = {}
    for spec in steps:
        where = f"step '{spec['name']}'"
        step = existing.get(spec["name"]) or WorkflowStep(workflow=workflow, name=spec["name"])
        values = {
            "input_templates": spec.get("inputs") or {},
            "join_mode": spec.get("join") or JoinModeChoices.ALL,
            "max_retries": spec.get("retries") or 0,
            "retry_backoff": spec.get("backoff") or 0,
            "timeout": spec.get("timeout"),
            "for_each": spec.get("for_each"),
            "concurrency": spec.get("concurrency"),
            "max_failures": spec.get("max_failures") or 0,
            "concurrency_key": spec.get("concurrency_key") or "",
            "concurrency_limit": spec.get("key_limit") or 1,
            "job": _job(spec["job"], where) if spec.get("job") else None,
            "subworkflow": _subworkflow(spec["workflow"], where) if spec.get("workflow") else None,
            "job_queue": _queue(spec["queue"], where) if spec.get("queue") else None,
            **_input_step_fields(spec, where),
        }
        changed = save_if_changed(step, values, _validator(where)) or changed
        by_name[step.name] = step
    existing_edges = {
        (edge.source.name, edge.target.name): edge for edge in workflow.edges.select_related("source", "target")
    }
    for spec in edges:
        pair = (spec["from"], spec["to"])
        edge = existing_edges.get(pair) or WorkflowEdge(
            workflow=workflow, source=by_name[spec["from"]], target=by_name[spec["to"]]
        )
        values = {
            "trigger": spec.get("trigger", EdgeTriggerChoices.ON_SUCCESS),
            "condition": spec.get("condition") or "",
        }
        changed = save_if_changed(edge, values, _validator(f"edge {pair[0]} → {pair[1]}")) or changed
    return changed
