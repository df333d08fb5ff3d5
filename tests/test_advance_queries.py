"""Queries of one advance() step: a step finished, the next one starts (the engine's per-step overhead)."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from nautobot.apps.testing import TestCase
from nautobot.extras.choices import JobResultStatusChoices
from nautobot.extras.models import JobResult

from nautobot_jobflow.choices import StepRunStatusChoices, WorkflowRunStatusChoices
from nautobot_jobflow.engine.runner import advance, advance_after_job_result
from nautobot_jobflow.hooks.registry import REGISTRY
from tests.fixtures import create_superuser, refresh_jobs
from tests.fixtures_approvals import make_definition, make_group, make_policy
from tests.fixtures_engine import build_workflow, start, step_runs

# Per step, in the transaction's savepoint (SAVEPOINT and RELEASE are counted too):
#   ours: lock the run (with its user and "is any policy enabled" in the same query), its step runs, the JobResults
#         of running attempts, the finished attempt's UPDATE, the next step's Job, the next step run's one INSERT;
#   Nautobot's: enqueue_job's queue type lookup, INSERT/UPDATE/SELECT (the Job's default queue is loaded with the
#   Job; the inputs are validated by the Job's form class without as_form's Job lookup, see launch.validate_job_data).
QUERIES_PER_STEP = 12
POLICY_TABLE = '"nautobot_jobflow_approvalpolicy"'


class AdvanceQueryCountTest(TestCase):
    """advance() on a chain whose running step just finished (no worker: the JobResult is marked done here)."""

    @classmethod
    def setUpTestData(cls):
        refresh_jobs()

    def setUp(self):
        super().setUp()
        self.admin = create_superuser("advance-queries")
        self.workflow = build_workflow({"a": "Noop", "b": "Noop", "c": "Noop"}, [("a", "b"), ("b", "c")])
        self.run = start(self.workflow, self.admin)  # the launch's advance waits for a commit that never comes
        advance(self.run.pk)  # starts "a"

    def finish(self, step_name):
        """Mark the step's JobResult succeeded as the worker would (without its post_save: advance is under test)."""
        job_result_id = step_runs(self.run)[step_name].job_result_id
        JobResult.objects.filter(pk=job_result_id).update(status=JobResultStatusChoices.STATUS_SUCCESS, result={})

    def advance_counting(self):
        with CaptureQueriesContext(connection) as queries:
            advance(self.run.pk)
        return [query["sql"] for query in queries.captured_queries]

    def test_one_step_to_the_next(self):
        self.finish("a")
        queries = self.advance_counting()
        self.assertEqual(len(queries), QUERIES_PER_STEP, "\n".join(queries))
        latest = step_runs(self.run)
        self.assertEqual(latest["a"].status, StepRunStatusChoices.SUCCEEDED)
        self.assertEqual(latest["b"].status, StepRunStatusChoices.RUNNING)
        self.assertIsNotNone(latest["b"].job_result_id, "the step run is written once, with its JobResult")
        self.assertEqual(latest["b"].rendered_inputs, {})
        self.assertIsNotNone(latest["b"].started)
        # The same count for the next step: nothing grows with the steps already done.
        self.finish("b")
        self.assertEqual(len(self.advance_counting()), QUERIES_PER_STEP)

    def test_from_the_job_results_save(self):
        """The worker's path: post_save hands over the saved JobResult; the lock query finds its run, no read of it."""
        job_result = JobResult.objects.get(pk=step_runs(self.run)["a"].job_result_id)
        job_result.status = JobResultStatusChoices.STATUS_SUCCESS
        job_result.result = {"answer": 42}
        JobResult.objects.filter(pk=job_result.pk).update(status=job_result.status, result=job_result.result)
        with CaptureQueriesContext(connection) as captured:
            run = advance_after_job_result(job_result)
        queries = [query["sql"] for query in captured.captured_queries]
        self.assertEqual(run.pk, self.run.pk)
        # advance()'s count less the JobResult read; the post_save receiver itself no longer queries.
        self.assertEqual(len(queries), QUERIES_PER_STEP - 1, "\n".join(queries))
        mentions = [sql for sql in queries if str(job_result.pk) in sql]
        self.assertEqual(len(mentions), 1, "only the lock query names the finished JobResult")
        self.assertIn("FOR UPDATE", mentions[0])
        latest = step_runs(self.run)
        self.assertEqual(latest["a"].status, StepRunStatusChoices.SUCCEEDED)
        self.assertEqual(latest["a"].result, {"answer": 42})
        self.assertEqual(latest["b"].status, StepRunStatusChoices.RUNNING)
        # Saved again (a second final save, or a JobResult of no step): the lock query finds no running step.
        with CaptureQueriesContext(connection) as captured:
            self.assertIsNone(advance_after_job_result(job_result))
        self.assertEqual(len(captured.captured_queries), 3, "savepoint, the lock query, release")
        self.assertEqual(step_runs(self.run)["b"].attempt, 1)

    def test_no_policy_query_when_no_policy_is_enabled(self):
        self.finish("a")
        queries = self.advance_counting()
        policy_queries = [sql for sql in queries if POLICY_TABLE in sql]
        self.assertEqual(len(policy_queries), 1, "only the EXISTS inside the run's lock query")
        self.assertIn("FOR UPDATE", policy_queries[0])

    def test_enabled_policy_is_loaded_and_the_step_run_saved_before_the_launch(self):
        approvers = make_group("advance-approvers", create_superuser("advance-approver"))
        make_policy(make_definition((approvers, 1)), workflows=[self.workflow], applies_to="workflows")
        self.finish("a")
        queries = self.advance_counting()
        # + the policies with their prefetched jobs and workflows; the step run is inserted, then gets its JobResult
        self.assertEqual(len(queries), QUERIES_PER_STEP + 4, "\n".join(queries))
        self.assertEqual(step_runs(self.run)["b"].status, StepRunStatusChoices.RUNNING, "the policy covers no Job")

    def test_last_step_finishes_the_run(self):
        for name in ("a", "b"):
            self.finish(name)
            advance(self.run.pk)
        self.finish("c")
        # A run reaching a final state asks the hook rules registry for completion rules; it loads the enabled rules
        # once per process (later uses cost no query). Load it now so the count is the steady state's.
        REGISTRY.current()
        queries = self.advance_counting()
        self.run.refresh_from_db()
        self.assertEqual(self.run.status, WorkflowRunStatusChoices.SUCCEEDED)
        # lock, step runs, JobResults, the step's UPDATE, the run's UPDATE, in a savepoint
        self.assertEqual(len(queries), 7, "\n".join(queries))
