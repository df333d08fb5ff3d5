"""Object filters in Nautobot's own filter vocabulary: a model's FilterSet parameters, as Dynamic Groups use them.

Approval policies (objects named in a launch's inputs) and hook rules (the changed object) both store such a filter;
this module is the one place that checks one. It reads no rows: the FilterSet is bound to an empty queryset.
"""

from nautobot.core.utils.lookup import get_filterset_for_model


def model_label(model):
    """'DCIM | device', as ContentType shows it, without looking the ContentType up."""
    return f"{model._meta.app_config.verbose_name} | {model._meta.verbose_name}"


def object_filter_problems(model, object_filter):
    """Why ``object_filter`` is not a valid filter of ``model``'s FilterSet: a list of messages (empty: it is)."""
    label = model_label(model)
    filterset_class = get_filterset_for_model(model)
    if filterset_class is None:
        return [f"{label} has no FilterSet, so its objects cannot be filtered."]
    filterset = filterset_class(object_filter, queryset=model.objects.none())
    unknown = sorted(set(object_filter) - set(filterset.filters))
    if unknown:
        names = ", ".join(unknown)
        return [f"Unknown filter(s) for {label}: {names} (its FilterSet has no filter(s) {names})."]
    if not filterset.is_valid():
        return [f"{label} filter {name}: {' '.join(messages)}" for name, messages in filterset.errors.items()]
    return []


def filtered(model, object_filter, queryset):
    """``queryset`` narrowed by ``object_filter`` (already validated); None when the filter is no longer valid."""
    filterset = get_filterset_for_model(model)(object_filter, queryset=queryset)
    return filterset.qs if filterset.is_valid() else None
