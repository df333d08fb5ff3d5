"""Conditions of hook rules: ``{"path": "status", "op": "eq", "value": "Active", "negate": false}``.

Kept close to the condition vocabulary Nautobot core is adding for job hooks and webhooks (nautobot/nautobot
PR 9420, ``nautobot.extras.conditions``): a dotted path into the serialized object (``status``, ``status.name``,
``custom_fields.owner``), where a related object compares as its ``value``/``name``/``display``/``id``; ``=`` is
accepted for ``eq``; numbers compare numerically when both sides read as numbers; a many-valued field compares as the
set of its members' display values; ``negate`` inverts a row. We add ``neq``, ``regex``, ``is_null`` and the
change operators ``changed``, ``changed_from`` and ``changed_to`` (core's "field change" and "field transition").

A create or update is evaluated against the object after the change; a delete against the object before it.
"""

import operator as py_operator
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

VALUE_KEYS = ("value", "name", "display", "id")  # how a related object reduces to one comparable value
MAX_REGEX_CHARS = 500

UPDATE = "update"


class ConditionProblem(ValueError):
    """A condition row is malformed; the message names the row (``conditions[2]``) and the problem."""


# ------------------------------------------------------------------------------------------------- values
def reduce_value(value):
    """A related object (a mapping) reduced to its value/name/display/id; lists element by element."""
    if isinstance(value, dict):
        for key in VALUE_KEYS:
            if key in value:
                return value[key]
        return value
    if isinstance(value, (list, tuple)):
        return [reduce_value(item) for item in value]
    return value


def lookup(container, segments):
    """Walk ``segments`` through nested mappings; None when a segment is missing. The result is reduced."""
    current = container
    for segment in segments:
        if not isinstance(current, dict) or segment not in current:
            return None
        current = current[segment]
    return reduce_value(current)


def _as_number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, Decimal)):
        number = Decimal(str(value))
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except (InvalidOperation, ArithmeticError):
            return None
    else:
        return None
    return None if number.is_nan() else number


def _as_text(value):
    if value is None:
        return ""
    if isinstance(value, dict):
        return _as_text(reduce_value(value))
    return str(value)


def _coerce_pair(value, target):
    """Both sides as numbers when both read as numbers, as text when the value is text; else None."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        return None
    left, right = _as_number(value), _as_number(target)
    if left is not None and right is not None:
        return left, right
    if isinstance(value, str):
        return value, _as_text(target)
    return None


def equals(value, target):
    """Core's ``=``: booleans against booleans, lists as sets of text, None as the empty string, numbers numeric."""
    if isinstance(value, bool) or isinstance(target, bool):
        return isinstance(value, bool) and isinstance(target, bool) and value is target
    if isinstance(value, (list, tuple, set)):
        return isinstance(target, (list, tuple)) and {_as_text(item) for item in value} == {
            _as_text(item) for item in target
        }
    if isinstance(target, (list, tuple)):
        return False
    if target is None:
        return value is None
    pair = _coerce_pair("" if value is None else value, target)
    return pair is not None and pair[0] == pair[1]


def _ordering(compare):
    def predicate(value, target):
        pair = _coerce_pair(value, target)
        return pair is not None and compare(*pair)

    return predicate


def _in(value, target):
    if isinstance(value, (list, tuple, set)):  # a many-valued field is "in" when any member is
        return any(equals(_as_text(item), item_target) for item in value for item_target in target)
    return any(equals(value, item) for item in target)


def _contains(value, target):
    if isinstance(value, (list, tuple, set)):
        return any(_as_text(item) == target for item in value)
    return isinstance(value, str) and target in value


def _text(method):
    def predicate(value, target):
        return isinstance(value, str) and method(value, target)

    return predicate


def _regex(value, pattern):
    if isinstance(value, (list, tuple, set)):
        return any(pattern.search(_as_text(item)) for item in value)
    if value is None or isinstance(value, (dict, bool)):
        return False
    return pattern.search(str(value)) is not None


def _is_null(value, target):
    return (value is None) is bool(target)


# ------------------------------------------------------------------------------------------------- operators
@dataclass(frozen=True)
class Operator:
    """One operator: how it compares, what value it takes, whether it looks at both sides of an update."""

    key: str
    label: str
    value_kind: str  # "scalar", "list", "text", "regex", "bool", "none", "scalar-or-list"
    compare_after: object = None  # f(after, target) for operators over one side
    transition: bool = False  # changed / changed_from / changed_to look at before and after


OPERATORS = {
    op.key: op
    for op in (
        Operator("eq", "equals", "scalar-or-list", equals),
        Operator("neq", "does not equal", "scalar-or-list", lambda v, t: not equals(v, t)),
        Operator("in", "is one of", "list", _in),
        Operator("contains", "contains", "text", _contains),
        Operator("startswith", "starts with", "text", _text(str.startswith)),
        Operator("endswith", "ends with", "text", _text(str.endswith)),
        Operator("regex", "matches regular expression", "regex", _regex),
        Operator("gt", "greater than", "scalar", _ordering(py_operator.gt)),
        Operator("gte", "greater than or equal", "scalar", _ordering(py_operator.ge)),
        Operator("lt", "less than", "scalar", _ordering(py_operator.lt)),
        Operator("lte", "less than or equal", "scalar", _ordering(py_operator.le)),
        Operator("is_null", "is null (value true) / is set (value false)", "bool", _is_null),
        Operator("changed", "changed (updates)", "none", transition=True),
        Operator("changed_from", "changed from (updates)", "scalar-or-list", transition=True),
        Operator("changed_to", "changed to (updates)", "scalar-or-list", transition=True),
    )
}
ALIASES = {"=": "eq", "!=": "neq", "is null": "is_null", "changed from": "changed_from", "changed to": "changed_to"}
OPERATOR_CHOICES = tuple((op.key, op.label) for op in OPERATORS.values())
ROW_KEYS = {"path", "op", "value", "negate"}


@dataclass(frozen=True)
class Condition:
    """A parsed, checked condition row, ready to evaluate many times."""

    index: int
    path: str
    segments: tuple
    operator: Operator
    value: object
    negate: bool
    pattern: object = None

    def evaluate(self, event):
        """(passed, actual value) for one event: {"action", "data", "before", "after"}."""
        op = self.operator
        if op.transition:
            before, after = lookup(event.get("before"), self.segments), lookup(event.get("after"), self.segments)
            actual = {"before": before, "after": after}
            changed = event.get("action") == UPDATE and not equals(before, after)
            if op.key == "changed":
                passed = changed
            elif op.key == "changed_from":
                passed = changed and equals(before, self.value)
            else:
                passed = changed and equals(after, self.value)
        else:
            actual = lookup(event.get("data"), self.segments)
            target = self.pattern if op.key == "regex" else self.value
            passed = bool(op.compare_after(actual, target))
        return (not passed) if self.negate else passed, actual

    def describe(self):
        """``status eq 'Active'`` for logs and the rule tester."""
        value = "" if self.operator.value_kind == "none" else f" {self.value!r}"
        return f"{'not ' if self.negate else ''}{self.path} {self.operator.key}{value}"


def _check_value(op, value, label):
    kind = op.value_kind
    scalar = (str, int, float, bool)
    if kind == "none":
        return None
    if kind == "list":
        if not isinstance(value, list) or not value or not all(isinstance(item, scalar) for item in value):
            raise ConditionProblem(f"{label}: '{op.key}' needs a non-empty list of values.")
    elif kind == "bool":
        if value is None:
            return True
        if not isinstance(value, bool):
            raise ConditionProblem(f"{label}: '{op.key}' takes true or false (or no value, meaning true).")
    elif kind == "text":
        if not isinstance(value, str) or value == "":
            raise ConditionProblem(f"{label}: '{op.key}' needs a non-empty text value.")
    elif kind == "regex":
        if not isinstance(value, str) or not value:
            raise ConditionProblem(f"{label}: 'regex' needs a regular expression.")
        if len(value) > MAX_REGEX_CHARS:
            raise ConditionProblem(f"{label}: the regular expression is longer than {MAX_REGEX_CHARS} characters.")
    elif kind == "scalar":
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ConditionProblem(f"{label}: '{op.key}' needs a number or a text value.")
    elif kind == "scalar-or-list":
        if isinstance(value, list):
            if not all(isinstance(item, scalar) for item in value):
                raise ConditionProblem(f"{label}: a list value may hold only text, numbers and booleans.")
        elif value is not None and not isinstance(value, scalar):
            raise ConditionProblem(f"{label}: '{op.key}' needs a text, number, boolean or list value.")
    return value


def parse_condition(row, index):
    """One stored row → Condition; ConditionProblem names ``conditions[index]`` and what is wrong."""
    label = f"conditions[{index}]"
    if not isinstance(row, dict):
        raise ConditionProblem(f"{label}: a condition is an object with path, op and value.")
    unknown = sorted(set(row) - ROW_KEYS)
    if unknown:
        raise ConditionProblem(f"{label}: unknown key(s) {', '.join(unknown)} (allowed: path, op, value, negate).")
    path = row.get("path")
    if not isinstance(path, str) or not path.strip():
        raise ConditionProblem(f"{label}: 'path' is required (a field name such as status or status.name).")
    segments = tuple(path.strip().split("."))
    if any(not segment for segment in segments):
        raise ConditionProblem(f"{label}: path '{path}' has an empty segment.")
    op_key = ALIASES.get(row.get("op"), row.get("op"))
    op = OPERATORS.get(op_key) if isinstance(op_key, str) else None
    if op is None:
        raise ConditionProblem(f"{label}: unknown operator {row.get('op')!r}; use one of {', '.join(OPERATORS)}.")
    negate = row.get("negate", False)
    if not isinstance(negate, bool):
        raise ConditionProblem(f"{label}: 'negate' must be true or false.")
    value = _check_value(op, row.get("value"), label)
    pattern = None
    if op.key == "regex":
        try:
            pattern = re.compile(value)
        except re.error as error:
            raise ConditionProblem(f"{label}: invalid regular expression {value!r}: {error}.") from None
    return Condition(index, path.strip(), segments, op, value, negate, pattern)


def parse_conditions(rows):
    """The rule's condition list → [Condition]; ConditionProblem on the first bad row."""
    if rows in (None, ""):
        return []
    if not isinstance(rows, list):
        raise ConditionProblem("Conditions must be a list of condition objects.")
    return [parse_condition(row, index) for index, row in enumerate(rows)]


def evaluate(conditions, match_any, event):
    """(matched, [(condition, passed, actual)]); no conditions always match. ``any`` stops at the first pass."""
    details = []
    if not conditions:
        return True, details
    for condition in conditions:
        passed, actual = condition.evaluate(event)
        details.append((condition, passed, actual))
        if match_any and passed:
            return True, details
        if not match_any and not passed:
            return False, details
    return (not match_any), details


def change_event(action, prechange, postchange):
    """The evaluation view of one object change: data is the object after (before, for a delete)."""
    data = prechange if action == "delete" else postchange
    return {"action": action, "data": data or {}, "before": prechange, "after": postchange}
