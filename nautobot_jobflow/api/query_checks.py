"""The REST API's checks of a request's query string and object id, made before any query runs.

Nautobot's generic API code hands query values to Python and PostgreSQL as they come: a malformed value ends in a
``ValueError``, a Django ``ValidationError`` or a ``DataError``, and the answer is a 500 (in core too). The app's
viewsets answer instead:

- 400 naming the parameter and the reason for a malformed generic parameter (``depth``, ``exclude_m2m``, ``limit``,
  ``offset``, ``format``, ``sort``), a NUL character anywhere in the query string, an invalid regular expression, and
  a filter value its filter's form refuses or PostgreSQL would refuse;
- 404 for an object id that cannot name any object (neither a UUID nor a well-formed composite key).

Only input is judged here: what these checks let through reaches the view unchanged, so a real fault still raises and
answers 500; the mixin logs it with its traceback (Nautobot's API error middleware answers the 500 without logging one
unless django-structlog's request middleware is installed).
"""

import datetime
import logging

from django.core.exceptions import FieldDoesNotExist, FieldError
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, connection, transaction
from django_filters.constants import EMPTY_VALUES
from django_filters.filters import ChoiceFilter, MultipleChoiceFilter
from django_filters.rest_framework import DjangoFilterBackend
from nautobot.core.filters import ContentTypeFilterMixin, ContentTypeMultipleChoiceFilter
from nautobot.core.models.utils import deconstruct_composite_key
from nautobot.core.settings_funcs import is_truthy
from nautobot.core.utils.data import is_uuid
from rest_framework.exceptions import NotAcceptable, NotFound, ValidationError
from rest_framework.filters import OrderingFilter

logger = logging.getLogger(__name__)

REGEX_LOOKUPS = ("__re", "__nre", "__ire", "__nire")
MAX_DEPTH = 10  # Nautobot's own limit (ModelViewSetMixin.get_serializer_context)
# PostgreSQL refuses a UTC offset of 16 hours or more ("time zone displacement out of range") and fractions of a second
# in one; Python takes up to 24 hours, to the microsecond.
MAX_UTC_OFFSET = datetime.timedelta(hours=16)
# django-filter turns these filters' "null" value into None, which Django compares with exact lookups only.
NULL_CONVERTING_FILTERS = (ChoiceFilter, MultipleChoiceFilter)
NONE_LOOKUPS = ("exact", "iexact")


#
# The query string as such
#


def bad_regex(pattern):
    """PostgreSQL's own complaint about a regular expression (None when it compiles), asked in a savepoint."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT '' ~ %s", [pattern])
    except DataError as error:
        return str(error).strip().splitlines()[0]
    return None


def _integer(value):
    """The value as an int, or None when it is not a plain (optionally signed) decimal integer."""
    text = value.strip()
    return int(text) if text.lstrip("+-").isdigit() else None


def _depth_problem(value, view):
    depth = _integer(value)
    if depth is None or not 0 <= depth <= MAX_DEPTH:
        return f"The depth must be an integer from 0 to {MAX_DEPTH}, not '{value}'."
    return None


def _exclude_m2m_problem(value, view):
    try:
        is_truthy(value)
    except ValueError:
        return f"exclude_m2m must be a boolean (true or false), not '{value}'."
    return None


def _limit_problem(value, view):
    limit = _integer(value)
    if limit is None or limit < 0:
        return f"The limit must be a non-negative integer (0: the largest page allowed), not '{value}'."
    return None


def _offset_problem(value, view):
    offset = _integer(value)
    if offset is None:
        return f"The offset must be a non-negative integer, not '{value}'."
    if offset < 0:
        return "The offset cannot be negative."
    return None


def _format_problem(value, view):
    formats = [renderer.format for renderer in view.get_renderers()]
    if value not in formats:
        return f"Unknown format '{value}'; this endpoint answers in {', '.join(formats)}."
    if value == "csv" and getattr(view, "action", None) == "notes":
        return "Notes cannot be exported as CSV; use format=json."
    return None


# Query parameters that are not filters (nautobot.core.api.constants.NON_FILTER_QUERY_PARAMS), with their checks;
# "sort" needs the queryset and is checked with the filters (sort_problems).
GENERIC_PARAMETER_CHECKS = {
    "depth": _depth_problem,
    "exclude_m2m": _exclude_m2m_problem,
    "limit": _limit_problem,
    "offset": _offset_problem,
    "format": _format_problem,
}


def query_string_problems(query_params, view):
    """{parameter: [reasons]} for the values of the query string that no query could take; empty when none."""
    problems = {}
    for key, values in query_params.lists():
        if "\x00" in key or any("\x00" in value for value in values):
            problems[key.replace("\x00", "\\x00")] = ["Null characters are not allowed."]
        elif key in GENERIC_PARAMETER_CHECKS:
            errors = [error for error in (GENERIC_PARAMETER_CHECKS[key](value, view) for value in values) if error]
            if errors:
                problems[key] = errors
        elif key.endswith(REGEX_LOOKUPS):
            errors = [f"Invalid regular expression: {error}" for error in map(bad_regex, values) if error]
            if errors:
                problems[key] = errors
    return problems


def sortable_fields(view):
    """What DRF's OrderingFilter sorts by when a view has no ``ordering_fields``: the serializer's readable fields.

    DRF's own list skips the fields backed by a model property, finding those by reading every class attribute of the
    model; Nautobot's ``natural_key_field_lookups`` raises when read on a model without a natural key (ApprovalEvent),
    so every ``?sort=`` on such a model answered 500. Properties are found here without reading them.
    """
    model = view.queryset.model
    properties = {name for klass in model.__mro__ for name, value in vars(klass).items() if isinstance(value, property)}
    properties.discard("pk")
    serializer = view.get_serializer_class()(context={"request": getattr(view, "request", None)})
    return [
        field.source.replace(".", "__") or name
        for name, field in serializer.fields.items()
        if not field.write_only and field.source != "*" and field.source not in properties
    ]


def sort_problems(request, queryset, backend, view):
    """Reasons the ``sort`` parameter cannot order ``queryset`` (an unknown field, one the database cannot sort)."""
    values = request.query_params.getlist(backend.ordering_param)
    if not values:
        return []
    valid = {name for name, _ in backend.get_valid_fields(queryset, view, {"request": request})}
    problems = []
    for value in values:
        for term in filter(None, (term.strip() for term in value.split(","))):
            name = term.removeprefix("-")
            try:
                sortable = name in valid and queryset.order_by(name) is not None
            except FieldError:  # a serializer field the database cannot order by
                sortable = False
            if not sortable:
                problems.append(f"Cannot sort by '{term}'; sortable fields: {', '.join(sorted(valid))}.")
    return problems


#
# Filter values
#


def _values(value):
    """The single values of a cleaned filter value (multi-value filters clean to lists)."""
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)
    return [value]


def _null_problem(name, filter_):
    """Why the filter cannot take its ``null`` value (which django-filter turns into None), or None."""
    if isinstance(filter_, (ContentTypeFilterMixin, ContentTypeMultipleChoiceFilter)):
        return f"{name} takes content types as app_label.model; 'null' is not one."
    if filter_.method is None and filter_.lookup_expr not in NONE_LOOKUPS:
        return f"'null' (empty) can only be matched exactly, not with the '{filter_.lookup_expr}' lookup of {name}."
    return None


def _value_problem(name, filter_, value):
    """Why Django's query building or PostgreSQL would refuse one cleaned value of a filter, or None."""
    offset = value.utcoffset() if isinstance(value, datetime.datetime) else None
    if offset is not None and abs(offset) >= MAX_UTC_OFFSET:
        return f"The UTC offset of '{value.isoformat()}' is out of range: PostgreSQL takes offsets up to ±15:59."
    if offset is not None and offset.microseconds:
        return f"The UTC offset of '{value.isoformat()}' has a fraction of a second, which PostgreSQL refuses."
    if isinstance(filter_, NULL_CONVERTING_FILTERS) and value == filter_.null_value:
        return _null_problem(name, filter_)
    return None


def filter_value_problems(filterset):
    """{parameter: [reasons]} for a filterset's values: its own form's errors, else what the query would refuse."""
    if not filterset.is_valid():
        return {name: list(errors) for name, errors in filterset.errors.items()}
    problems = {}
    for name, value in filterset.form.cleaned_data.items():
        filter_ = filterset.filters.get(name)
        if filter_ is None or value in EMPTY_VALUES:
            continue
        errors = [error for error in (_value_problem(name, filter_, item) for item in _values(value)) if error]
        if errors:
            problems[name] = list(dict.fromkeys(errors))
    return problems


#
# Object ids in detail routes
#


def _lookup_field(model, lookup):
    """The model field a natural-key lookup such as ``workflow__name`` ends on (None for a property)."""
    *relations, last = lookup.split("__")
    try:
        for relation in relations:
            model = model._meta.get_field(relation).related_model
        return model._meta.pk if last == "pk" else model._meta.get_field(last)
    except (FieldDoesNotExist, AttributeError):
        return None


def lookup_can_name_an_object(model, value, composite_key=True):
    """Whether ``value`` (a detail route's id) can name an object: a UUID, or a composite key of valid values.

    ``composite_key=False`` for routes that look up by primary key only (core's ``notes`` action).
    """
    if is_uuid(value):
        return True
    if not composite_key or "\x00" in value:
        return False
    try:
        lookups = model.natural_key_args_to_kwargs(deconstruct_composite_key(value))
    except (AttributeError, ValueError):  # no natural key; more values than the natural key has
        return False
    for lookup, item in lookups.items():
        field = _lookup_field(model, lookup)
        if item is None or field is None:
            continue
        if "\x00" in item:
            return False
        try:
            field.to_python(item)
        except DjangoValidationError:
            return False
    return True


class ValidatedQueryMixin:
    """Answer 400 (naming the parameter and the reason) or 404 where a bad request would end in a 500.

    Put it first in a viewset's bases. ``initial()`` checks the query string before authentication (as Nautobot
    checks the API version) and, after the permission checks, the id of a detail route; ``filter_queryset()`` checks
    the filter values with the filterset's own form and what PostgreSQL refuses, and the ``sort`` fields, before the
    query is built; ``ordering_fields`` is DRF's default list of sortable fields, found without reading model
    properties. ``raise_uncaught_exception()`` logs a fault with its traceback before it becomes a 500.
    """

    @property
    def ordering_fields(self):
        """The fields ``?sort=`` takes (DRF's default, see sortable_fields); a viewset may still set its own list."""
        return sortable_fields(self)

    def initial(self, request, *args, **kwargs):
        """Refuse a query string no query could take, then (once permitted) an id that cannot name an object."""
        problems = query_string_problems(request.query_params, self)
        if problems:
            raise ValidationError(problems)
        super().initial(request, *args, **kwargs)
        if getattr(self, "action", None) == "notes" and "text/csv" in (request.accepted_media_type or ""):
            raise NotAcceptable("Notes cannot be exported as CSV; ask for application/json.")
        lookup_url_kwarg = self.lookup_url_kwarg or self.lookup_field
        value = self.kwargs.get(lookup_url_kwarg)
        if value is not None and self.lookup_field == "pk":
            # Core's notes action looks its object up by primary key only, where get_object() also takes a composite
            # key; an id that is neither is answered 404 here rather than by a ValidationError (500) in the lookup.
            composite_key = getattr(self, "action", None) != "notes"
            if not lookup_can_name_an_object(self.queryset.model, value, composite_key=composite_key):
                raise NotFound(f"No {self.queryset.model._meta.verbose_name} has the id '{value}'.")

    def filter_queryset(self, queryset):
        """Filter and sort as GenericAPIView does, refusing filter values and sort fields the query cannot take.

        The filterset is built once, checked, then applied (what DjangoFilterBackend.filter_queryset does), so its
        form validates (and logs unknown filters) once per request.
        """
        request = self.request
        problems = {}
        for backend in (backend_class() for backend_class in self.filter_backends):
            if isinstance(backend, DjangoFilterBackend):
                filterset = backend.get_filterset(request, queryset, self)
                found = filter_value_problems(filterset) if filterset is not None else {}
                problems.update(found)
                if filterset is not None and not found:
                    queryset = filterset.qs
            elif isinstance(backend, OrderingFilter):
                found = sort_problems(request, queryset, backend, self)
                if found:
                    problems["sort"] = found
                else:
                    queryset = backend.filter_queryset(request, queryset, self)
            else:
                queryset = backend.filter_queryset(request, queryset, self)
        if problems:
            raise ValidationError(problems)
        return queryset

    def raise_uncaught_exception(self, exc):
        """Log a fault (not bad input) with its traceback, then let it answer 500 as before."""
        request = self.request
        logger.error("Server error answering %s %s", request.method, request.get_full_path(), exc_info=exc)
        super().raise_uncaught_exception(exc)
