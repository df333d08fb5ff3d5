"""Query counts of for-each steps: one item finishing and the next starting costs the same for 10 and 500 items,
and the run page and the step-runs API list do not grow with the items."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from nautobot.apps.testing import TestCase
from nautobot.extras.choices import JobResultStatusChoices
from nautobot.extras.models import JobResult

from nautobot_jobflow.choices import StepRunStatusChoices
from nautobot_jobflow.engine.runner import advance
from nautobot_jobflow.hooks.registry import REGISTRY
from tests.fixtures import create_superuser, refresh_jobs
from tests.fixtures_engine import build_workflow, start

CONCURRENCY = 2


class ForEachQueryCountTest(TestCase):
    """advance() of a for-each step whose running item just finished (no worker: the JobResult is marked done)."""

    @classmethod
    def setUpTestData(cls):
        refresh_jobs()

    def setUp(self):
        super().setUp()
        self.admin = create_superuser("foreach-queries")
        REGISTRY.current()  # loaded once per process, as in a worker

    def start_for_each(self, count, concurrency=CONCURRENCY):
        workflow = build_workflow(
            {"each": {"job": "Noop", "for_each": "{{ inputs.hosts }}", "concurrency": concurrency}}
        )
        run = start(workflow, self.admin, {"hosts": [f"h{index}" for index in range(count)]})
        advance(run.pk)  # expands the items and starts the first CONCURRENCY of them
        return run

    def running_items(self, run):
        return run.step_runs.filter(item_index__isnull=False, status=StepRunStatusChoices.RUNNING).order_by(
            "item_index"
        )

    def finish_one_and_count(self, run):
        item = self.running_items(run).first()
        JobResult.objects.filter(pk=item.job_result_id).update(status=JobResultStatusChoices.STATUS_SUCCESS, result={})
        with CaptureQueriesContext(connection) as queries:
            advance(run.pk)
        return [query["sql"] for query in queries.captured_queries]

    def test_one_item_to_the_next_costs_the_same_for_10_and_500_items(self):
        small, large = self.start_for_each(10), self.start_for_each(500)
        self.assertEqual(self.running_items(small).count(), CONCURRENCY)
        self.assertEqual(self.running_items(large).count(), CONCURRENCY)
        self.finish_one_and_count(small)  # the first advance after the expansion warms the per-process caches
        self.finish_one_and_count(large)
        small_queries = self.finish_one_and_count(small)
        large_queries = self.finish_one_and_count(large)
        self.assertEqual(len(small_queries), len(large_queries), "\n".join(large_queries))
        self.assertLessEqual(len(large_queries), 14, "\n".join(large_queries))
        self.assertEqual(self.running_items(large).count(), CONCURRENCY, "the next item started")
        header = large.step_runs.get(step_name="each", item_index__isnull=True)
        self.assertEqual(header.progress["succeeded"], 2)
        self.assertEqual(header.progress["started"], 4)

    def page_queries(self, url):
        self.client.force_login(self.admin)
        self.client.get(url)  # warm caches (content types, user preferences)
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(url)
        self.assertEqual(response.status_code, 200)
        return len(queries.captured_queries)

    def test_the_run_page_and_the_step_runs_api_do_not_grow_with_the_items(self):
        small, large = self.start_for_each(3, concurrency=None), self.start_for_each(60, concurrency=None)
        self.assertEqual(self.running_items(large).count(), 60, "every item started at once")
        for url_name in ("plugins:nautobot_jobflow:workflowrun",):
            small_count = self.page_queries(reverse(url_name, kwargs={"pk": small.pk}))
            large_count = self.page_queries(reverse(url_name, kwargs={"pk": large.pk}))
            self.assertEqual(small_count, large_count)
        api = reverse("plugins-api:nautobot_jobflow-api:workflowsteprun-list")
        small_count = self.page_queries(f"{api}?run={small.pk}")
        large_count = self.page_queries(f"{api}?run={large.pk}")
        self.assertEqual(small_count, large_count)
