"""Sandboxed Jinja2 for step inputs and edge conditions.

A value that is exactly one ``{{ expression }}`` keeps the expression's type (a number stays a number, a list a
list); any other string with template syntax renders to a string; other values pass through unchanged. Undefined
names are errors, never empty strings, and every rendered string is capped in size.
"""

import contextlib
import contextvars
import math
import re
import string

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, meta
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

MAX_RENDERED_CHARS = 1_000_000
MAX_RANGE = 10_000  # items of one range()
MAX_RANGE_TOTAL = 100_000  # items of all range() calls of one template (nested loops multiply)
MAX_WIDTH = 10_000  # padding width of format specs, %-formats and str.center/ljust/rjust/zfill/expandtabs
MAX_POWER_BITS = 65_536  # size of an integer a ** b may produce
_SINGLE_EXPRESSION = re.compile(r"^\s*\{\{(?P<expr>.*?)\}\}\s*$", re.DOTALL)
_NUMBERS = re.compile(r"\d+")
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_PADDING_METHODS = {"center", "ljust", "rjust", "zfill", "expandtabs"}
_range_budget = contextvars.ContextVar("jobflow_range_budget", default=None)


class TemplateProblem(Exception):
    """A template cannot be parsed or rendered; the message names the template and the cause."""


def _refuse_wide(numbers, what):
    for number in numbers:
        if number == "*" or int(number) > MAX_WIDTH:
            raise SecurityError(f"{what}: widths and precisions are limited to {MAX_WIDTH:,} (found {number})")


def _check_percent_format(text):
    for width, precision in _PERCENT_SPEC.findall(text):
        _refuse_wide([n for n in (width, precision) if n], "%-formatting")


def _check_format_string(text):
    for _literal, _field, spec, _conversion in string.Formatter().parse(text):
        if spec and "{" in spec:
            raise SecurityError("str.format: nested replacement fields in a format spec are not allowed")
        _refuse_wide(_NUMBERS.findall(spec or ""), "str.format")


def _check_size(size, what):
    if size > MAX_RENDERED_CHARS:
        raise SecurityError(f"{what} would make {size:,} items (limit {MAX_RENDERED_CHARS:,})")


class _CappedEnvironment(ImmutableSandboxedEnvironment):
    """Immutable sandbox (no attribute access outside the context, no mutation) that refuses output amplification.

    Jinja2's sandbox stops escapes (underscore attributes, unsafe callables, ``alters_data`` methods such as a
    model's ``save``) but not memory or CPU bombs: ``'x' * 10**9``, ``'{:>999999999}'.format(1)``,
    ``'x'|center(10**9)``, ``2 ** 10**9``, nested ``range()`` loops. These are refused before they allocate, and
    rendered output is counted as it is produced.
    """

    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self):
        super().__init__(undefined=StrictUndefined, autoescape=False)
        self.globals = {"range": self._safe_range}
        for name in ("center", "indent", "batch", "slice", "format", "replace"):
            self.filters[name] = self._capped_filter(self.filters[name], name)

    @staticmethod
    def _safe_range(*args):
        values = range(*args)
        if len(values) > MAX_RANGE:
            raise SecurityError(f"range() is limited to {MAX_RANGE:,} items")
        budget = _range_budget.get()
        if budget is not None:
            budget[0] -= len(values)
            if budget[0] < 0:
                raise SecurityError(f"a template may iterate at most {MAX_RANGE_TOTAL:,} range() items in all")
        return values

    def call_binop(self, context, operator, left, right):
        """Refuse sequence repetition, powers and %-formats whose result would be huge."""
        if operator == "*":
            for sequence, times in ((left, right), (right, left)):
                if isinstance(sequence, (str, list, tuple)) and isinstance(times, int):
                    _check_size(len(sequence) * times, "repetition")
        elif operator == "**" and isinstance(left, int) and isinstance(right, int) and abs(left) > 1 and right > 0:
            if right * math.log2(abs(left)) > MAX_POWER_BITS:
                raise SecurityError(f"{left} ** {right} is too large")
        elif operator == "%" and isinstance(left, str):
            _check_percent_format(left)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context, __obj, *args, **kwargs):  # Jinja2 names the arguments so
        """Refuse str methods that pad or expand to a huge width, and str.format with huge widths."""
        owner = getattr(__obj, "__self__", None)
        name = getattr(__obj, "__name__", "")
        if isinstance(owner, str):
            if name in _PADDING_METHODS:
                _refuse_wide([str(value) for value in [*args, *kwargs.values()] if isinstance(value, int)], name)
            elif name == "replace" and len(args) >= 2:
                _check_size(_replaced_size(owner, args[0], args[1]), "str.replace")
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value):
        """str.format / format_map in templates (wrapped by Jinja2 on access): refuse huge widths first."""
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            _check_format_string(value.__self__)
        return wrapped

    @staticmethod
    def _capped_filter(original, name):
        """Wrap a filter that can amplify its input (padding, batches, %-format, replace) with a size check."""
        offset = 1 if hasattr(original, "jinja_pass_arg") else 0  # @pass_eval_context filters get it first

        def capped(*args, **kwargs):
            value, options = args[offset], [*args[offset + 1 :], *kwargs.values()]
            if name == "format" and isinstance(value, str):
                _check_percent_format(value)
            elif name == "replace" and len(options) >= 2:
                _check_size(_replaced_size(str(value), str(options[0]), str(options[1])), "replace")
            else:
                _refuse_wide([str(option) for option in options if isinstance(option, int)], f"filter {name}")
            return original(*args, **kwargs)

        if offset:
            capped.jinja_pass_arg = original.jinja_pass_arg
        return capped


def _replaced_size(text, old, new):
    if not isinstance(old, str) or not isinstance(new, str):
        return len(text)
    count = (len(text) + 1) if old == "" else text.count(old)
    return len(text) + count * max(0, len(new) - len(old))


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


def leaves(value, label):
    """(label, leaf) for every non-container value of nested dicts and lists, labelled ``a.b[2]``."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, f"{label}.{key}")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from leaves(item, f"{label}[{index}]")
    else:
        yield label, value


def templates_in(value, label):
    """(label, template) for every string of nested dicts and lists that contains Jinja2 syntax."""
    return ((where, leaf) for where, leaf in leaves(value, label) if is_template(leaf))


def check_syntax(value, label):
    """Raise TemplateProblem naming ``label`` when a template (or nested templates) does not parse."""
    for where, template in templates_in(value, label):
        try:
            ENVIRONMENT.parse(template)
        except TemplateSyntaxError as error:
            raise TemplateProblem(
                f"template {where} has a syntax error: {error.message} (line {error.lineno})"
            ) from None


def unknown_names(value, label, allowed):
    """(label, sorted names) for every template in ``value`` that uses names neither in ``allowed`` nor global.

    The sandbox's globals (``range``) are always available. Templates must parse (``check_syntax`` first).
    """
    known = set(allowed) | set(ENVIRONMENT.globals)
    for where, template in templates_in(value, label):
        unknown = sorted(meta.find_undeclared_variables(ENVIRONMENT.parse(template)) - known)
        if unknown:
            yield where, unknown


def check_expression(expression, label):
    """Raise TemplateProblem when a condition expression does not parse."""
    if not expression or not expression.strip():
        raise TemplateProblem(f"{label} is empty")
    try:
        ENVIRONMENT.compile_expression(expression)
    except TemplateSyntaxError as error:
        raise TemplateProblem(f"{label} has a syntax error: {error.message}") from None


@contextlib.contextmanager
def _range_allowance():
    token = _range_budget.set([MAX_RANGE_TOTAL])
    try:
        yield
    finally:
        _range_budget.reset(token)


def map_leaves(value, function, label):
    """Nested dicts and lists with every leaf replaced by ``function(leaf, label)`` (labels as ``leaves`` gives)."""
    if isinstance(value, dict):
        return {key: map_leaves(item, function, f"{label}.{key}") for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [map_leaves(item, function, f"{label}[{index}]") for index, item in enumerate(value)]
    return function(value, label)


def render_value(value, context, label):
    """Render one input value (every template inside nested dicts and lists)."""
    return map_leaves(value, lambda leaf, where: _render_leaf(leaf, context, where), label)


def _render_leaf(value, context, label):
    if not is_template(value):
        return value
    try:
        with _range_allowance():
            match = _SINGLE_EXPRESSION.match(value)
            if match and "{{" not in match.group("expr") and "}}" not in match.group("expr"):
                result = ENVIRONMENT.compile_expression(match.group("expr"), undefined_to_none=False)(**context)
                if isinstance(result, StrictUndefined):
                    str(result)  # raises UndefinedError with the missing name
            else:
                result = _render_capped(ENVIRONMENT.from_string(value), context, label)
    except TemplateProblem:
        raise
    except Exception as error:
        raise _problem(f"template {label} ({value!r})", error) from None
    if isinstance(result, str) and len(result) > MAX_RENDERED_CHARS:
        raise TemplateProblem(f"template {label} rendered {len(result):,} characters (limit {MAX_RENDERED_CHARS:,})")
    return result


def _render_capped(template, context, label):
    """Render chunk by chunk, stopping as soon as the output passes the cap (a loop cannot fill the memory)."""
    pieces, size = [], 0
    for piece in template.generate(**context):
        size += len(piece)
        if size > MAX_RENDERED_CHARS:
            raise TemplateProblem(f"template {label} rendered over {MAX_RENDERED_CHARS:,} characters (the limit)")
        pieces.append(piece)
    return "".join(pieces)


def render_mapping(templates, context):
    """Render a mapping of variable name to literal or template; errors name the variable."""
    return {name: render_value(value, context, name) for name, value in (templates or {}).items()}


def evaluate_condition(expression, context, label="condition"):
    """Evaluate a condition expression to a bool; errors (undefined names included) raise TemplateProblem."""
    try:
        with _range_allowance():
            value = ENVIRONMENT.compile_expression(expression, undefined_to_none=False)(**context)
            if isinstance(value, StrictUndefined):
                str(value)
            return bool(value)
    except Exception as error:
        raise _problem(f"{label} ({expression!r})", error) from None


class StepContext(dict):
    """``steps.<name>`` in templates: a mapping whose data keys win over dict methods as attributes.

    Jinja2 reads ``steps.each.items`` as ``getattr`` first, which on a plain dict is the ``items`` method; a for-each
    step's item list must win there.
    """

    def __getattribute__(self, name):
        if name in ("status", "result", "error", "items") and dict.__contains__(self, name):
            return dict.__getitem__(self, name)
        return super().__getattribute__(name)
