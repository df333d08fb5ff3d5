"""Validation of workflow definitions (used by model clean(), forms, the API and YAML import).

Every problem is a ValidationError keyed by the field the user has to fix.
"""

from django.apps import apps
from django.core.exceptions import ValidationError

from nautobot_jobflow.choices import EdgeTriggerChoices, StepKindChoices
from nautobot_jobflow.lib import graph as graph_utils
from nautobot_jobflow.lib.json_schema import schema_errors
from nautobot_jobflow.lib.object_filters import object_filter_problems
from nautobot_jobflow.lib.sandbox import TemplateProblem, check_expression, check_syntax, is_template

# Inputs the engine manages itself; templates may not set them.
RESERVED_INPUTS = {"dryrun"}


def job_variable_names(job):
    """Names of the Job's input variables, or None when its code is not installed."""
    job_class = job.job_class
    if job_class is None:
        return None
    return set(job_class._get_vars())


def refuse_sensitive_job(job, field, where="a workflow step"):
    """Raise ValidationError({field: ...}) when ``job`` has sensitive variables.

    Anything that stores the inputs it gives a Job (a workflow step's templates and rendered inputs, a hook rule's
    inputs) must refuse such a Job: Nautobot itself never stores their values (no JobResult kwargs, no schedule).
    """
    if job is not None and job.has_sensitive_variables:
        raise ValidationError(
            {
                field: f"Job '{job}' has sensitive variables: {where} stores the inputs it passes to its Job, and "
                "the inputs of a Job with sensitive variables must never be stored, so it cannot be used here."
            }
        )


def validate_step(step):
    """A step runs exactly one Job or one other workflow, or waits for input; its templates parse and fit its Job."""
    errors = {}
    if step.kind == StepKindChoices.INPUT:
        errors.update(input_step_errors(step))
    else:
        errors.update(_input_fields_unused(step))
        if bool(step.job_id) == bool(step.subworkflow_id):
            errors["job"] = "Choose either a Job or a nested workflow for the step (exactly one)."
    if step.name and not step.name.replace("_", "a").replace("-", "a").isalnum():
        errors["name"] = "Use letters, digits, '_' and '-' only: templates refer to steps as steps.<name>."
    if not isinstance(step.input_templates, dict):
        errors["input_templates"] = "Input templates must be a JSON object of variable name to value or template."
    elif step.job_id and not errors:
        job = step.job
        try:
            refuse_sensitive_job(job, "job")
        except ValidationError as error:
            errors.update({field: messages[0] for field, messages in error.message_dict.items()})
        names = job_variable_names(job)
        if names is None:
            errors["job"] = f"Job '{job}' is not installed (its code cannot be loaded)."
        else:
            unknown = sorted(set(step.input_templates) - names)
            if unknown:
                errors["input_templates"] = (
                    f"Job '{job}' has no variable {', '.join(repr(n) for n in unknown)}; "
                    f"its variables are: {', '.join(sorted(names)) or '(none)'}."
                )
            reserved = sorted(set(step.input_templates) & RESERVED_INPUTS)
            if reserved and "input_templates" not in errors:
                errors["input_templates"] = "'dryrun' is set by the run's dry-run flag; remove it from the templates."
    if step.subworkflow_id and step.workflow_id:
        if step.subworkflow_id == step.workflow_id:
            errors["subworkflow"] = "A workflow cannot run itself as a step."
        elif _nests(step.subworkflow, step.workflow_id):
            errors["subworkflow"] = f"Workflow '{step.subworkflow}' runs this workflow itself (nesting cycle)."
    if isinstance(step.input_templates, dict) and "input_templates" not in errors:
        try:
            check_syntax(step.input_templates, "input_templates")
        except TemplateProblem as problem:
            errors["input_templates"] = str(problem)
    errors.update(for_each_problems(step))
    if step.concurrency_key:
        if step.subworkflow_id:
            errors["concurrency_key"] = "A concurrency key limits Job attempts; a nested-workflow step has none."
        else:
            try:
                check_syntax(step.concurrency_key, "concurrency_key")
            except TemplateProblem as problem:
                errors["concurrency_key"] = str(problem)
    if errors:
        raise ValidationError(errors)


def input_step_errors(step):
    """Field errors of an input step: it runs nothing, asks a prompt, has a valid answer schema and responders."""
    errors = {}
    if step.job_id:
        errors["job"] = "An input step waits for a person's answer; it runs no Job."
    if step.subworkflow_id:
        errors["subworkflow"] = "An input step waits for a person's answer; it runs no nested workflow."
    if step.job_queue_id:
        errors["job_queue"] = "An input step runs no Job, so it has no Job queue."
    if step.input_templates:
        errors["input_templates"] = "An input step takes no input templates (its prompt may use templates)."
    if step.for_each not in (None, "", [], {}):
        errors["for_each"] = "For each runs a Job once per item; an input step runs no Job (not supported)."
    if step.concurrency_key:
        errors["concurrency_key"] = "A concurrency key limits Job attempts; an input step runs no Job."
    if not (step.prompt or "").strip():
        errors["prompt"] = "An input step needs a prompt: what the responders are asked."
    else:
        try:
            check_syntax(step.prompt, "prompt")
        except TemplateProblem as problem:
            errors["prompt"] = str(problem)
    problem = answer_schema_problem(step.answer_schema)
    if problem:
        errors["answer_schema"] = problem
    if not step.responder_group_id:
        errors["responder_group"] = "An input step needs the group whose members may answer it."
    return errors


def answer_schema_problem(schema):
    """None when ``schema`` can describe an answer (empty, or a valid JSON Schema of an object), else a message."""
    if schema in (None, ""):
        return None
    if not isinstance(schema, dict):
        return "The answer schema must be a JSON object (a JSON Schema)."
    problem = schema_errors(schema)
    if problem:
        return problem
    if "type" in schema and schema["type"] != "object":
        return f"An answer is a JSON object: the schema's type must be 'object', not {schema['type']!r}."
    return None


def _input_fields_unused(step):
    """A Job or nested-workflow step has none of an input step's fields (a prompt there would never be shown)."""
    errors = {}
    if (step.prompt or "").strip():
        errors["prompt"] = "Only an input step (kind 'input') has a prompt."
    if step.answer_schema:
        errors["answer_schema"] = "Only an input step (kind 'input') has an answer schema."
    if step.responder_group_id:
        errors["responder_group"] = "Only an input step (kind 'input') has responders."
    return errors


def for_each_problems(step):
    """Field errors of a step's for-each settings (empty dict: none)."""
    errors = {}
    for_each = step.for_each
    if for_each in (None, "", [], {}):
        if step.concurrency is not None:
            errors["concurrency"] = "Concurrency limits the items of a for-each step; set 'for each' or clear it."
        if step.max_failures:
            errors["max_failures"] = "Tolerated failures count the items of a for-each step; set 'for each' or use 0."
        return errors
    if step.subworkflow_id:
        errors["for_each"] = (
            "For each runs the step's Job once per item; a nested-workflow step cannot (not supported)."
        )
        return errors
    if isinstance(for_each, str):
        if not is_template(for_each):
            errors["for_each"] = (
                'A for-each template yields a list, e.g. "{{ steps.report.result.devices }}" or "{{ inputs.hosts }}".'
            )
        else:
            try:
                check_syntax(for_each, "for_each")
            except TemplateProblem as problem:
                errors["for_each"] = str(problem)
    elif isinstance(for_each, dict):
        problem = object_query_problem(for_each)
        if problem:
            errors["for_each"] = problem
    elif not isinstance(for_each, list):
        errors["for_each"] = (
            'For each is a template, a list of items, or an object query {"model": ..., "filter": ...}.'
        )
    return errors


def object_query_model(query):
    """The model an object query names (``{"model": "dcim.device", ...}``), or None."""
    label = query.get("model")
    if not isinstance(label, str) or label.count(".") != 1:
        return None
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def object_query_problem(query):
    """Why a for-each object query is not valid (None: it is); the filter is checked with the model's FilterSet."""
    unknown = sorted(set(query) - {"model", "filter"})
    if unknown:
        return f"An object query has the keys 'model' and 'filter'; unknown: {', '.join(unknown)}."
    model = object_query_model(query)
    if model is None:
        return f"Unknown object type {query.get('model')!r}: use app_label.model, e.g. dcim.device."
    object_filter = query.get("filter") or {}
    if not isinstance(object_filter, dict):
        return "The object query's filter is a JSON object of filter names to values."
    problems = object_filter_problems(model, object_filter)
    return "; ".join(problems) or None


def validate_outputs(output_templates):
    """A workflow's outputs: a JSON object of name to literal or template, every template parsing."""
    if not isinstance(output_templates, dict):
        raise ValidationError({"output_templates": "Outputs are a JSON object of output name to value or template."})
    try:
        check_syntax(output_templates, "output_templates")
    except TemplateProblem as problem:
        raise ValidationError({"output_templates": str(problem)}) from None


def _nests(workflow, target_id, seen=None):
    """True when ``workflow`` runs the workflow ``target_id`` at any depth."""
    seen = seen or set()
    if workflow.pk in seen:
        return False
    seen.add(workflow.pk)
    for child in workflow.steps.exclude(subworkflow=None).select_related("subworkflow"):
        if child.subworkflow_id == target_id or _nests(child.subworkflow, target_id, seen):
            return True
    return False


def validate_edge(edge):
    """Both ends in the edge's workflow, no self-loop, a condition where needed, and no cycle."""
    errors = {}
    if edge.source_id and edge.target_id:
        if edge.source_id == edge.target_id:
            errors["target"] = f"A step cannot depend on itself (self-loop on '{edge.source.name}')."
        if edge.workflow_id and (
            edge.source.workflow_id != edge.workflow_id or edge.target.workflow_id != edge.workflow_id
        ):
            errors["source"] = "Both steps of an edge must belong to the edge's workflow."
    if edge.trigger == EdgeTriggerChoices.CONDITION:
        try:
            check_expression(edge.condition, "condition")
        except TemplateProblem as problem:
            errors["condition"] = str(problem)
    elif edge.condition and edge.condition.strip():
        errors["condition"] = "A condition is only used with the 'When condition is true' trigger."
    if not errors and edge.source_id and edge.target_id:
        pairs = set(edge.workflow.edges.exclude(pk=edge.pk).values_list("source__name", "target__name")) | {
            (edge.source.name, edge.target.name)
        }
        step_names = list(edge.workflow.steps.values_list("name", flat=True))
        cycle = graph_utils.find_cycle(graph_utils.build_graph(step_names, pairs))
        if cycle:
            errors["target"] = f"This edge would create a cycle: {graph_utils.describe_cycle(cycle)}."
    if errors:
        raise ValidationError(errors)


def validate_definition(steps, edges):
    """Validate a whole definition given as plain data (YAML import, API bulk).

    ``steps``: list of dicts with at least ``name``; ``edges``: list of dicts with ``source``, ``target``,
    ``trigger`` and ``condition``. Returns nothing; raises ValidationError naming the problem.
    """
    names = [step.get("name") for step in steps]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValidationError({"steps": f"Duplicate step names: {', '.join(duplicates)}."})
    known = set(names)
    pairs = []
    for edge in edges:
        source, target = edge.get("source"), edge.get("target")
        for end in (source, target):
            if end not in known:
                raise ValidationError({"edges": f"Edge {source} → {target} names an unknown step '{end}'."})
        if source == target:
            raise ValidationError({"edges": f"A step cannot depend on itself (self-loop on '{source}')."})
        trigger = edge.get("trigger", EdgeTriggerChoices.ON_SUCCESS)
        if trigger not in EdgeTriggerChoices.values():
            raise ValidationError({"edges": f"Edge {source} → {target}: unknown trigger '{trigger}'."})
        if trigger == EdgeTriggerChoices.CONDITION:
            try:
                check_expression(edge.get("condition", ""), f"condition of edge {source} → {target}")
            except TemplateProblem as problem:
                raise ValidationError({"edges": str(problem)}) from None
        pairs.append((source, target))
    cycle = graph_utils.find_cycle(graph_utils.build_graph(names, pairs))
    if cycle:
        raise ValidationError({"edges": f"The edges form a cycle: {graph_utils.describe_cycle(cycle)}."})
