"""Sandboxed Jinja2 for step inputs and edge conditions.

A value that is exactly one ``{{ expression }}`` keeps the expression's type (a number stays a number, a list a
list); any other string with template syntax renders to a string; other values pass through unchanged. Undefined
names are errors, never empty strings, and every rendered string is capped in size.
"""

import re

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

MAX_RENDERED_CHARS = 1_000_000
_SINGLE_EXPRESSION = re.compile(r"^\s*\{\{(?P<expr>.*?)\}\}\s*$", re.DOTALL)


class TemplateProblem(Exception):
    """A template cannot be parsed or rendered; the message names the template and the cause."""


class _CappedEnvironment(ImmutableSandboxedEnvironment):
    """Immutable sandbox (no attribute access outside the context, no mutation) with range() capped."""

    def __init__(self):
        super().__init__(undefined=StrictUndefined, autoescape=False)
        self.globals = {"range": self._safe_range}

    @staticmethod
    def _safe_range(*args):
        values = range(*args)
        if len(values) > 10_000:
            raise SecurityError("range() is limited to 10,000 items")
        return values


ENVIRONMENT = _CappedEnvironment()


def _problem(subject, error):
    """A TemplateProblem saying why ``subject`` (a template or expression, quoted) could not be evaluated."""
    if isinstance(error, UndefinedError):
        return TemplateProblem(f"{subject} uses an undefined name: {error.message}")
    if isinstance(error, SecurityError):
        return TemplateProblem(f"{subject} was refused by the sandbox: {error}")
    if isinstance(error, TemplateSyntaxError):
        return TemplateProblem(f"{subject} has a syntax error: {error.message}")
    return TemplateProblem(f"{subject} failed: {type(error).__name__}: {error}")


def is_template(value):
    """True when a string contains Jinja2 syntax."""
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def check_syntax(value, label):
    """Raise TemplateProblem naming ``label`` when a template (or nested templates) does not parse."""
    if isinstance(value, dict):
        for key, item in value.items():
            check_syntax(item, f"{label}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_syntax(item, f"{label}[{index}]")
    elif is_template(value):
        try:
            ENVIRONMENT.parse(value)
        except TemplateSyntaxError as error:
            raise TemplateProblem(
                f"template {label} has a syntax error: {error.message} (line {error.lineno})"
            ) from None


def check_expression(expression, label):
    """Raise TemplateProblem when a condition expression does not parse."""
    if not expression or not expression.strip():
        raise TemplateProblem(f"{label} is empty")
    try:
        ENVIRONMENT.compile_expression(expression)
    except TemplateSyntaxError as error:
        raise TemplateProblem(f"{label} has a syntax error: {error.message}") from None


def render_value(value, context, label):
    """Render one input value (recursively for dicts and lists)."""
    if isinstance(value, dict):
        return {key: render_value(item, context, f"{label}.{key}") for key, item in value.items()}
    if isinstance(value, list):
        return [render_value(item, context, f"{label}[{index}]") for index, item in enumerate(value)]
    if not is_template(value):
        return value
    try:
        match = _SINGLE_EXPRESSION.match(value)
        if match and "{{" not in match.group("expr") and "}}" not in match.group("expr"):
            result = ENVIRONMENT.compile_expression(match.group("expr"), undefined_to_none=False)(**context)
            if isinstance(result, StrictUndefined):
                str(result)  # raises UndefinedError with the missing name
        else:
            result = ENVIRONMENT.from_string(value).render(**context)
    except Exception as error:
        raise _problem(f"template {label} ({value!r})", error) from None
    if isinstance(result, str) and len(result) > MAX_RENDERED_CHARS:
        raise TemplateProblem(f"template {label} rendered {len(result):,} characters (limit {MAX_RENDERED_CHARS:,})")
    return result


def render_mapping(templates, context):
    """Render a mapping of variable name to literal or template; errors name the variable."""
    return {name: render_value(value, context, name) for name, value in (templates or {}).items()}


def evaluate_condition(expression, context, label="condition"):
    """Evaluate a condition expression to a bool; errors (undefined names included) raise TemplateProblem."""
    try:
        value = ENVIRONMENT.compile_expression(expression, undefined_to_none=False)(**context)
        if isinstance(value, StrictUndefined):
            str(value)
        return bool(value)
    except Exception as error:
        raise _problem(f"{label} ({expression!r})", error) from None
