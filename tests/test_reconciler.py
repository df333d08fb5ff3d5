"""The reconciler works alone: a second one, started while the first holds the lock, does nothing."""

import psycopg2
from django.db import connection
from nautobot.apps.testing import TestCase

from nautobot_jobflow.engine.reconcile_runs import RECONCILER_LOCK_KEY, reconcile


class ReconcilerLockTest(TestCase):
    def test_second_reconciler_skips_while_the_lock_is_held(self):
        settings = connection.settings_dict
        other = psycopg2.connect(
            host=settings["HOST"], port=settings["PORT"], user=settings["USER"], password=settings["PASSWORD"],
            dbname=settings["NAME"],
        )  # fmt: skip
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_lock(%s)", [RECONCILER_LOCK_KEY])
                self.assertTrue(reconcile(stale_after=0).skipped)
                cursor.execute("SELECT pg_advisory_unlock(%s)", [RECONCILER_LOCK_KEY])
        finally:
            other.close()
        done = reconcile(stale_after=0)
        self.assertFalse(done.skipped)
        self.assertEqual((done.advanced, done.reaped, done.resent), (0, 0, 0))
