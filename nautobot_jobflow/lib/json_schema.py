"""Workflow inputs: JSON Schema checks (with the jsonschema library Nautobot ships)."""

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError


def schema_errors(schema):
    """None when ``schema`` is a valid JSON Schema, else a message."""
    if not schema:
        return None
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        return f"Invalid JSON Schema: {error.message}"
    return None


def validate_against_schema(schema, data, partial=False, root="(inputs)"):
    """None when ``data`` satisfies ``schema``; else a message naming the field (``partial`` ignores 'required').

    ``root``: the name given to a problem of ``data`` as a whole (a missing required property, a wrong type).
    """
    if not schema:
        return None if isinstance(data, dict) else "Inputs must be a JSON object."
    if partial:
        schema = {key: value for key, value in schema.items() if key != "required"}
    validator = Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda error: list(error.path))
    if not errors:
        return None
    messages = []
    for error in errors[:5]:
        where = ".".join(str(part) for part in error.path) or root
        messages.append(f"{where}: {error.message}")
    return "; ".join(messages)


def merged_inputs(workflow, inputs):
    """The workflow's default inputs overlaid with the launch's inputs."""
    return {**(workflow.default_inputs or {}), **(inputs or {})}


def missing_required(schema, data):
    """Names the schema requires at its top level that ``data`` does not give (sorted)."""
    required = schema.get("required") if isinstance(schema, dict) else None
    if not isinstance(required, list):
        return []
    return sorted(name for name in required if isinstance(name, str) and name not in (data or {}))
