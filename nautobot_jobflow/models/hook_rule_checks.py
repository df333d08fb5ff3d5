"""Save-time checks of a hook rule: anything that could fail when the rule fires is refused here, as field errors.

``validate_rule`` (from ``HookRule.clean``) checks what the row alone decides; ``validate_for_content_types``
(from the form and the serializer, which know the many-to-many values) checks condition paths and the object filter
against each watched model. That the saving user may run the target is checked by
``launching.permissions.check_target_runnable`` (the form and the serializer call it).
"""

from django.core.exceptions import ValidationError

from nautobot_jobflow.choices import HookCompletionStatusChoices, HookEventSourceChoices
from nautobot_jobflow.lib.conditions import ConditionProblem, parse_conditions
from nautobot_jobflow.lib.object_filters import object_filter_problems
from nautobot_jobflow.lib.sandbox import TemplateProblem, check_syntax
from nautobot_jobflow.models.input_checks import template_name_problems, unknown_inputs_problem
from nautobot_jobflow.models.workflow_checks import refuse_sensitive_job

# Names an input template may use, by kind of rule (see hooks.context).
CONTEXT_NAMES = {
    "single": {"object", "change", "rule"},
    "batch": {"objects", "changes", "object_ids", "rule"},
    "completion": {"completion", "rule"},
}
# What a completion condition can look at (hooks.context.completion_event).
COMPLETION_PATHS = {
    HookEventSourceChoices.JOB_COMPLETION: {"job", "job_module", "job_class", "status", "result", "user", "id"},
    HookEventSourceChoices.WORKFLOW_COMPLETION: {
        "workflow",
        "status",
        "error",
        "inputs",
        "user",
        "origin",
        "dryrun",
        "id",
    },
}
OPEN_ENDED = {"result", "inputs"}  # JSON values: any deeper path is allowed
NESTED_LEAF_KEYS = {"id", "url", "object_type"}  # what a related object of a related object holds in a snapshot


def template_kind(rule):
    """'single', 'batch' or 'completion': which names the rule's input template sees."""
    if rule.event_source != HookEventSourceChoices.OBJECT_CHANGE:
        return "completion"
    return "batch" if rule.batch else "single"


def validate_rule(rule):
    """Checks that need only the row (HookRule.clean)."""
    errors = {}
    _check_target(rule, errors)
    _check_source(rule, errors)
    try:
        parse_conditions(rule.conditions)
    except ConditionProblem as problem:
        errors.setdefault("conditions", []).append(str(problem))
    if rule.event_source == HookEventSourceChoices.OBJECT_CHANGE and not isinstance(rule.object_filter, dict):
        errors.setdefault("object_filter", []).append("The object filter must be a JSON object of filter parameters.")
    _check_input_template(rule, errors)
    if errors:
        raise ValidationError(errors)


def _check_target(rule, errors):
    if bool(rule.job_id) == bool(rule.workflow_id):
        errors.setdefault("job", []).append("Choose exactly one target: a Job or a Workflow.")
        return
    if rule.job_id:
        job = rule.job
        try:
            refuse_sensitive_job(job, "job", where="a hook rule")
        except ValidationError as error:
            errors.setdefault("job", []).extend(error.message_dict["job"])
        if job.job_class is None:
            errors.setdefault("job", []).append(f"Job '{job}' is not installed.")


def _check_source(rule, errors):
    source = rule.event_source
    if source == HookEventSourceChoices.OBJECT_CHANGE:
        if not (rule.type_create or rule.type_update or rule.type_delete):
            errors.setdefault("type_create", []).append("Choose at least one action: create, update or delete.")
        if rule.batch and not rule.debounce_seconds:
            errors.setdefault("debounce_seconds", []).append("Batch mode collects objects over a window: set one.")
        return
    if rule.debounce_seconds or rule.batch:
        errors.setdefault("debounce_seconds", []).append(
            "Debounce and batch mode apply to object changes; a completion rule fires once per run."
        )
    if rule.object_filter:
        errors.setdefault("object_filter", []).append("An object filter applies to object-change rules only.")
    statuses = rule.completion_statuses
    if not isinstance(statuses, list) or any(status not in HookCompletionStatusChoices.values() for status in statuses):
        errors.setdefault("completion_statuses", []).append(
            f"A list of final states: {', '.join(HookCompletionStatusChoices.values())} (empty: any)."
        )


def _check_input_template(rule, errors):
    templates = rule.input_template
    if not isinstance(templates, dict):
        errors.setdefault("input_template", []).append("The input template is a JSON object: input name to value.")
        return
    try:
        check_syntax(templates, "input_template")
    except TemplateProblem as problem:
        errors.setdefault("input_template", []).append(str(problem))
        return
    kind = template_kind(rule)
    problems = template_name_problems(templates, "input_template", CONTEXT_NAMES[kind], f"a {kind} rule's templates")
    unknown_inputs = unknown_inputs_problem(rule.target, templates)  # top-level names: inputs the target takes
    if unknown_inputs:
        problems.append(unknown_inputs)
    if problems:
        errors.setdefault("input_template", []).extend(problems)


# ------------------------------------------------------------------------------------------------- content types
def validate_for_content_types(rule, content_types):
    """Condition paths and the object filter, against every watched model (form and serializer call this)."""
    errors = {}
    content_types = list(content_types or [])
    if rule.event_source != HookEventSourceChoices.OBJECT_CHANGE:
        if content_types:
            errors["content_types"] = ["Object types apply to object-change rules only."]
        _check_completion_paths(rule, errors)
        if errors:
            raise ValidationError(errors)
        return
    if not content_types:
        raise ValidationError({"content_types": "Choose at least one object type to watch."})
    try:
        conditions = parse_conditions(rule.conditions)
    except ConditionProblem:
        conditions = []  # reported by validate_rule
    for content_type in content_types:
        model = content_type.model_class()
        if model is None:
            errors.setdefault("content_types", []).append(f"Object type {content_type} is not installed.")
            continue
        fields = _serializer_fields(model)
        for condition in conditions:
            problem = _path_problem(model, content_type, fields, condition.segments)
            if problem:
                errors.setdefault("conditions", []).append(f"conditions[{condition.index}]: {problem}")
        if rule.object_filter and isinstance(rule.object_filter, dict):
            for problem in object_filter_problems(model, rule.object_filter):
                errors.setdefault("object_filter", []).append(problem)
    if errors:
        raise ValidationError(errors)


def _check_completion_paths(rule, errors):
    try:
        conditions = parse_conditions(rule.conditions)
    except ConditionProblem:
        return
    allowed = COMPLETION_PATHS.get(rule.event_source, set())
    for condition in conditions:
        head = condition.segments[0]
        if head not in allowed or (len(condition.segments) > 1 and head not in OPEN_ENDED):
            errors.setdefault("conditions", []).append(
                f"conditions[{condition.index}]: path '{condition.path}' is not part of a completion; use "
                f"{', '.join(sorted(allowed))} (result.* and inputs.* reach into the JSON)."
            )


def _serializer_fields(model):
    from nautobot.core.api.utils import get_serializer_for_model

    try:
        return get_serializer_for_model(model)(context={"request": None}).fields
    except Exception:  # a model without an API serializer: fall back to its concrete fields
        return {field.name: field for field in model._meta.get_fields()}


def _related_model(field):
    for candidate in (field, getattr(field, "child_relation", None)):
        queryset = getattr(candidate, "queryset", None)
        if queryset is not None:
            return queryset.model
    return None


def _path_problem(model, content_type, fields, segments):
    """Why ``segments`` cannot address a value in this model's change snapshots (None when it can)."""
    label = model._meta.verbose_name
    head, rest = segments[0], segments[1:]
    if head not in fields:
        return f"{label} has no field '{head}'."
    if not rest:
        return None
    if head == "custom_fields":
        from nautobot.extras.models import CustomField

        if len(rest) > 1:
            return f"custom_fields.{rest[0]} has no sub-fields."
        if not CustomField.objects.filter(content_types=content_type, key=rest[0]).exists():
            return f"{label} has no custom field '{rest[0]}'."
        return None
    field = fields[head]
    if "JSON" in type(field).__name__:
        return None
    related = _related_model(field)
    if related is None:
        return f"'{head}' of {label} is a plain value; it has no '{rest[0]}'."
    if getattr(field, "child_relation", None) is not None:
        return f"'{head}' holds several objects; compare it as a whole (its members compare by name)."
    related_fields = _serializer_fields(related)
    if rest[0] not in related_fields:
        return f"{related._meta.verbose_name} ('{head}') has no field '{rest[0]}'."
    if len(rest) > 1 and (rest[1] not in NESTED_LEAF_KEYS or len(rest) > 2):
        return (
            f"a change records {head}.{rest[0]} only as {', '.join(sorted(NESTED_LEAF_KEYS))}; "
            f"'{'.'.join(segments)}' is too deep."
        )
    return None
