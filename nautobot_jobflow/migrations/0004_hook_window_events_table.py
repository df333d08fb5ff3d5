"""A window's changes move from the ``HookWindow.events`` JSON column to ``HookWindowEvent`` rows (one per object).

The column is renamed first (the rows' ``related_name`` is ``events``), the rows are created, every window's JSON
events are copied into them (so open windows fire with what they had collected, and fired windows keep showing their
objects), then the column is removed. Reversible: going back writes the rows into the column again.
"""

import uuid

import django.db.models.deletion
from django.db import migrations, models

COPY_BATCH = 1000


def events_to_rows(apps, schema_editor):
    """One row per object a window's JSON holds (already the latest change per object, ``before`` the first one's).

    The JSON kept only the window's total count: a window of one object (debounce) gives it all to that object; in a
    batch window each object counts one change.
    """
    HookWindow = apps.get_model("nautobot_jobflow", "HookWindow")
    HookWindowEvent = apps.get_model("nautobot_jobflow", "HookWindowEvent")
    rows = []
    windows = HookWindow.objects.exclude(legacy_events=[]).values_list(
        "pk", "legacy_events", "event_count", "opened", "fired"
    )
    for window_id, events, event_count, opened, fired in windows.iterator(chunk_size=COPY_BATCH):
        for position, change in enumerate(events):
            action = change.get("action", "update")
            rows.append(
                HookWindowEvent(
                    window_id=window_id,
                    object_type=change.get("object_type", ""),
                    object_id=change.get("object_id") or "",
                    before=change.get("before"),
                    latest={name: value for name, value in change.items() if name != "before"},
                    first_action=action,
                    latest_action=action,
                    count=event_count if len(events) == 1 else 1,
                    first_position=position,
                    first_seen=opened,
                    last_seen=fired or opened,
                )
            )
        if len(rows) >= COPY_BATCH:
            HookWindowEvent.objects.bulk_create(rows, ignore_conflicts=True)
            rows = []
    HookWindowEvent.objects.bulk_create(rows, ignore_conflicts=True)


def rows_to_events(apps, schema_editor):
    """Back to the JSON column: each window's rows in order, as merged changes."""
    HookWindow = apps.get_model("nautobot_jobflow", "HookWindow")
    HookWindowEvent = apps.get_model("nautobot_jobflow", "HookWindowEvent")
    events = {}
    for row in HookWindowEvent.objects.order_by("window_id", "first_position").iterator(chunk_size=COPY_BATCH):
        action = "create" if row.first_action == "create" and row.latest_action == "update" else row.latest_action
        events.setdefault(row.window_id, []).append({**row.latest, "before": row.before, "action": action})
    for window_id, changes in events.items():
        HookWindow.objects.filter(pk=window_id).update(legacy_events=changes)


class Migration(migrations.Migration):
    dependencies = [
        ("nautobot_jobflow", "0003_hook_rules"),
    ]

    operations = [
        migrations.RenameField(model_name="hookwindow", old_name="events", new_name="legacy_events"),
        migrations.CreateModel(
            name="HookWindowEvent",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        default=uuid.uuid4, editable=False, primary_key=True, serialize=False, unique=True
                    ),
                ),
                ("object_type", models.CharField(max_length=100)),
                ("object_id", models.CharField(blank=True, max_length=64)),
                ("before", models.JSONField(blank=True, null=True)),
                ("latest", models.JSONField(default=dict)),
                ("first_action", models.CharField(max_length=10)),
                ("latest_action", models.CharField(max_length=10)),
                ("count", models.PositiveIntegerField(default=1)),
                ("first_position", models.PositiveIntegerField()),
                ("first_seen", models.DateTimeField()),
                ("last_seen", models.DateTimeField()),
                (
                    "window",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="nautobot_jobflow.hookwindow",
                    ),
                ),
            ],
            options={
                "ordering": ["window", "first_position"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("window", "object_type", "object_id"), name="jobflow_hookwindowevent_one_per_object"
                    )
                ],
            },
        ),
        migrations.RunPython(events_to_rows, rows_to_events),
        migrations.RemoveField(
            model_name="hookwindow",
            name="legacy_events",
        ),
    ]
