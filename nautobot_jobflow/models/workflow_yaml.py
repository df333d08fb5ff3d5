"""Workflow definitions as YAML: export one workflow, import (create or replace) one workflow.

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

import yaml
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from nautobot.extras.models import Job, JobQueue

from nautobot_jobflow.choices import DryRunModeChoices, EdgeTriggerChoices, JoinModeChoices, StepKindChoices
from nautobot_jobflow.lib.errors import refusal_text
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
    }
    if spec.get("responders"):
        group = Group.objects.filter(name=spec["responders"]).first()
        if group is None:
            raise _problem(where, f"responders: no group named '{spec['responders']}'.")
        fields["responder_group"] = group
    return fields


def _problem(where, message):
    return ValidationError(f"{where}: {message}" if where else message)


def _parse(text):
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
    for index, edge in enumerate(document.get("edges") or []):
        if not isinstance(edge, dict) or not edge.get("from") or not edge.get("to"):
            raise _problem(f"edges[{index}]", "each edge must be a mapping with 'from' and 'to'.")
        extra = sorted(set(edge) - EDGE_KEYS)
        if extra:
            raise _problem(f"edges[{index}]", f"unknown key(s) {', '.join(extra)}.")
    return document


def _job(class_path, where):
    module_name, _, class_name = str(class_path).rpartition(".")
    job = Job.objects.filter(module_name=module_name, job_class_name=class_name).first()
    if job is None:
        raise _problem(where, f"no installed Job with class path '{class_path}'.")
    return job


def import_workflow(text, user=None):
    """Create the workflow a YAML document describes, or replace the steps and edges of the one with its name.

    Everything happens in one transaction: on any ValidationError nothing is changed.
    """
    document = _parse(text)
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
        workflow = Workflow.objects.filter(name=document["name"]).first() or Workflow(name=document["name"])
        workflow.description = document.get("description") or ""
        workflow.enabled = bool(document.get("enabled", True))
        workflow.input_schema = document.get("input_schema") or {}
        workflow.default_inputs = document.get("default_inputs") or {}
        workflow.dryrun_mode = document.get("dryrun_mode") or DryRunModeChoices.SKIP
        workflow.output_templates = document.get("outputs") or {}
        try:
            workflow.full_clean()
        except ValidationError as error:
            raise _problem("workflow", refusal_text(error)) from None
        workflow.save()
        workflow.edges.all().delete()
        workflow.steps.all().delete()
        by_name = {}
        for spec in steps:
            where = f"step '{spec['name']}'"
            step = WorkflowStep(
                workflow=workflow,
                name=str(spec["name"]),
                input_templates=spec.get("inputs") or {},
                join_mode=spec.get("join") or JoinModeChoices.ALL,
                max_retries=spec.get("retries") or 0,
                retry_backoff=spec.get("backoff") or 0,
                timeout=spec.get("timeout"),
                for_each=spec.get("for_each"),
                concurrency=spec.get("concurrency"),
                max_failures=spec.get("max_failures") or 0,
                concurrency_key=spec.get("concurrency_key") or "",
                concurrency_limit=spec.get("key_limit") or 1,
                **_input_step_fields(spec, where),
            )
            if spec.get("job"):
                step.job = _job(spec["job"], where)
            if spec.get("workflow"):
                child = Workflow.objects.filter(name=spec["workflow"]).first()
                if child is None:
                    raise _problem(where, f"no workflow named '{spec['workflow']}'.")
                step.subworkflow = child
            if spec.get("queue"):
                queue = JobQueue.objects.filter(name=spec["queue"]).first()
                if queue is None:
                    raise _problem(where, f"no job queue named '{spec['queue']}'.")
                step.job_queue = queue
            try:
                step.full_clean()
            except ValidationError as error:
                raise _problem(where, refusal_text(error)) from None
            step.save()
            by_name[step.name] = step
        for spec in edges:
            where = f"edge {spec['from']} → {spec['to']}"
            edge = WorkflowEdge(
                workflow=workflow,
                source=by_name[spec["from"]],
                target=by_name[spec["to"]],
                trigger=spec.get("trigger", EdgeTriggerChoices.ON_SUCCESS),
                condition=spec.get("condition") or "",
            )
            try:
                edge.full_clean()
            except ValidationError as error:
                raise _problem(where, refusal_text(error)) from None
            edge.save()
    return workflow
