"""Checks of an input template that every definition with one shares (hook rules, workflow buttons).

An input template maps a target's input names to literals or Jinja2 templates; ``template_name_problems`` says
which templates use names their context does not give, ``unknown_inputs_problem`` which top-level names the target
does not take.
"""

from nautobot.extras.models import Job

from nautobot_jobflow.lib.sandbox import unknown_names


def template_name_problems(templates, label, allowed, described_as):
    """One message per template of ``templates`` using a name outside ``allowed`` (and the sandbox's globals).

    ``described_as`` names what the templates belong to in the message ("a single rule's templates").
    """
    return [
        f"template {where} uses {', '.join(unknown)}; {described_as} can use {', '.join(sorted(allowed))}."
        for where, unknown in unknown_names(templates, label, allowed)
    ]


def target_input_names(target):
    """The input names ``target`` takes, or None when any name goes.

    A Job's variables (None when it is not installed); a Workflow's schema properties when its schema allows no
    others (``additionalProperties: false``).
    """
    if isinstance(target, Job):
        return set(target.job_class._get_vars()) if target.job_class is not None else None
    schema = getattr(target, "input_schema", None)
    if isinstance(schema, dict):
        properties = schema.get("properties")
        if isinstance(properties, dict) and schema.get("additionalProperties") is False:
            return set(properties)
    return None


def unknown_inputs_problem(target, templates):
    """A message when ``templates`` has top-level names ``target`` does not take (None when all are known)."""
    known = target_input_names(target)
    if known is None:
        return None
    unknown = sorted(set(templates) - known)
    if not unknown:
        return None
    return f"{target} has no input(s) {', '.join(unknown)}; its inputs are {', '.join(sorted(known)) or 'none'}."
