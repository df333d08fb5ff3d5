"""Migration 0004: the JSON ``events`` of existing windows become HookWindowEvent rows, and back."""

import uuid

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from django.test import TransactionTestCase
from django.utils import timezone

APP = "nautobot_jobflow"
BEFORE = [(APP, "0003_hook_rules")]
AFTER = [(APP, "0004_hook_window_events_table")]


def latest():
    """The app's newest migration: where every other test expects the schema to be."""
    return MigrationExecutor(connection).loader.graph.leaf_nodes(APP)


def migrate(targets):
    """Migrate the test database to ``targets``; returns the app registry of that state."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def change(action, object_id, before, after):
    return {
        "action": action,
        "object_type": "dcim.device",
        "object_id": object_id,
        "object_repr": f"device {object_id[:4]}",
        "before": before,
        "after": after,
        "user": "admin",
        "request_id": None,
        "time": "",
    }


class HookWindowEventsMigrationTest(TransactionTestCase):
    """An open debounce window and an open batch window survive the migration with what they had collected."""

    def tearDown(self):
        # Whatever happened, leave the schema as the other tests expect it: migrated to the app's newest migration,
        # not to 0004 (that would unapply every later migration under the tests that run after this one).
        migrate(latest())
        applied = MigrationRecorder(connection).applied_migrations()
        self.assertTrue(all(node in applied for node in latest()), "the schema is back at the newest migration")
        super().tearDown()

    def test_open_windows_keep_their_changes(self):
        apps = migrate(BEFORE)
        HookRule = apps.get_model(APP, "HookRule")
        HookWindow = apps.get_model(APP, "HookWindow")
        debounce_rule = HookRule.objects.create(name="migrated-debounce", debounce_seconds=60, type_update=True)
        batch_rule = HookRule.objects.create(name="migrated-batch", debounce_seconds=60, batch=True, type_update=True)
        now = timezone.now()
        one, two = str(uuid.uuid4()), str(uuid.uuid4())
        debounced = HookWindow.objects.create(
            rule=debounce_rule, key=f"object:dcim.device:{one}", opened=now, fires_at=now, event_count=4,
            events=[change("create", one, None, {"serial": "S3"})],
        )  # fmt: skip
        batched = HookWindow.objects.create(
            rule=batch_rule, key="batch:1", opened=now, fires_at=now, event_count=5,
            events=[change("update", two, {"serial": "A"}, {"serial": "B"}), change("update", one, {"serial": ""},
                    {"serial": "S3"})],
        )  # fmt: skip

        migrate(AFTER)
        migrate(latest())  # the current model below has the columns of every later migration
        from nautobot_jobflow.models import HookWindow as CurrentWindow

        (only,) = CurrentWindow.objects.get(pk=debounced.pk).changes()
        self.assertEqual((only["action"], only["before"], only["after"]), ("create", None, {"serial": "S3"}))
        self.assertEqual(CurrentWindow.objects.get(pk=debounced.pk).events.get().count, 4)
        changes = CurrentWindow.objects.get(pk=batched.pk).changes()
        self.assertEqual([c["object_id"] for c in changes], [two, one], "the objects' order is kept")
        self.assertEqual(changes[0]["before"], {"serial": "A"})
        self.assertEqual(CurrentWindow.objects.get(pk=batched.pk).event_count, 5)

        apps = migrate(BEFORE)  # and back
        window = apps.get_model(APP, "HookWindow").objects.get(pk=batched.pk)
        self.assertEqual([c["object_id"] for c in window.events], [two, one])
        self.assertEqual(window.events[0]["after"], {"serial": "B"})
