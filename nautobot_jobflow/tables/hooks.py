"""Tables of the hook rules: rules and their firings."""

import django_tables2 as tables
from nautobot.apps.tables import BaseTable, BooleanColumn, ButtonsColumn, ChoiceFieldColumn, TagColumn, ToggleColumn

from nautobot_jobflow.models import HookFiring, HookRule


class HookRuleTable(BaseTable):
    """Hook rules: what they watch and what they run."""

    pk = ToggleColumn()
    name = tables.Column(linkify=True)
    enabled = BooleanColumn()
    content_types = tables.TemplateColumn(
        template_code="{{ value.all|join:', ' }}", verbose_name="Object types", orderable=False
    )
    actions_label = tables.Column(verbose_name="Actions", orderable=False, empty_values=())
    target = tables.Column(accessor="target_label", verbose_name="Runs", orderable=False)
    batch = BooleanColumn()
    allow_one_level = BooleanColumn()
    tags = TagColumn(url_name="plugins:nautobot_jobflow:hookrule_list")
    actions = ButtonsColumn(HookRule)

    class Meta(BaseTable.Meta):
        model = HookRule
        fields = (
            "pk",
            "name",
            "description",
            "enabled",
            "event_source",
            "content_types",
            "actions_label",
            "match",
            "target",
            "debounce_seconds",
            "batch",
            "allow_one_level",
            "owner",
            "tags",
            "actions",
        )
        default_columns = (
            "pk",
            "name",
            "enabled",
            "event_source",
            "content_types",
            "actions_label",
            "target",
            "debounce_seconds",
            "batch",
            "actions",
        )


class HookFiringTable(BaseTable):
    """Firings of a rule, newest first, with the run each one started."""

    created = tables.DateTimeColumn(linkify=False)
    rule = tables.Column(linkify=True)
    status = ChoiceFieldColumn()
    run = tables.TemplateColumn(
        template_code=(
            '{% if record.workflow_run %}<a href="{{ record.workflow_run.get_absolute_url }}">'
            "{{ record.workflow_run }}</a>{% elif record.job_result %}"
            '<a href="{{ record.job_result.get_absolute_url }}">{{ record.job_result }}</a>'
            "{% else %}—{% endif %}"
        ),
        verbose_name="Run",
        orderable=False,
    )

    class Meta(BaseTable.Meta):
        model = HookFiring
        fields = (
            "created",
            "rule",
            "status",
            "action",
            "object_repr",
            "object_count",
            "user",
            "depth",
            "run",
            "reason",
        )
        default_columns = (
            "created",
            "rule",
            "status",
            "action",
            "object_repr",
            "object_count",
            "user",
            "run",
            "reason",
        )
