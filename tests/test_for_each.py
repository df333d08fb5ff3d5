"""For-each steps through the real worker: items from a result list and from an object query, concurrency,
tolerated failures, rerun of the failed items only, cancel, and a join after a for-each."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import override_settings
from nautobot.apps.testing import TransactionTestCase, create_test_user
from nautobot.extras.models import Job, JobResult
from nautobot.users.models import ObjectPermission

from nautobot_jobflow.choices import EdgeTriggerChoices
from nautobot_jobflow.choices import StepRunStatusChoices as STEP
from nautobot_jobflow.choices import WorkflowRunStatusChoices as RUN
from nautobot_jobflow.engine.control import rerun_from_failed
from nautobot_jobflow.engine.runner import cancel_run
from tests.fixtures import create_superuser, get_test_job, refresh_jobs, wait_for
from tests.fixtures_engine import build_workflow, run_summary, start, step_runs, wait_for_run
from tests.fixtures_hooks import create_test_devices


def item_runs(run, name):
    """The item attempts of a for-each step, in item and attempt order."""
    return list(run.step_runs.filter(step_name=name, item_index__isnull=False).order_by("item_index", "attempt"))


def max_overlap(job_results):
    """The most JobResults that were running at the same moment (from their start and end times)."""
    events = []
    for job_result in job_results:
        events.append((job_result.date_started, 1))
        events.append((job_result.date_done, -1))
    running = peak = 0
    for _, change in sorted(events, key=lambda event: (event[0], event[1])):
        running += change
        peak = max(peak, running)
    return peak


@pytest.mark.worker
@pytest.mark.usefixtures("celery_worker")
class ForEachWorkerTest(TransactionTestCase):
    """Each test runs a workflow with a for-each step on the real worker."""

    def setUp(self):
        super().setUp()
        refresh_jobs()
        self.admin = create_superuser()

    def test_items_from_a_steps_result_list_and_the_items_view(self):
        workflow = build_workflow(
            {
                "collect": {"job": "CollectObjects", "inputs": {"objects": "{{ inputs.hosts }}"}},
                "each": {
                    "job": "Echo",
                    "inputs": {"message": "{{ item }}-{{ index }}"},
                    "for_each": "{{ steps.collect.result.objects }}",
                },
                "after": {
                    "job": "Echo",
                    "inputs": {"message": "{{ steps.each.items | map(attribute='status') | join(',') }}"},
                },
            },
            [("collect", "each"), ("each", "after")],
        )
        run = wait_for_run(start(workflow, self.admin, {"hosts": ["r1", "r2", "r3"]}))
        self.assertEqual(run.status, RUN.SUCCEEDED, run_summary(run))
        each = step_runs(run)["each"]
        self.assertEqual([result["message"] for result in each.result], ["r1-0", "r2-1", "r3-2"])
        items = item_runs(run, "each")
        self.assertEqual([item.item for item in items], ["r1", "r2", "r3"])
        self.assertEqual(len({item.job_result_id for item in items}), 3, "one JobResult per item")
        self.assertEqual(each.progress["succeeded"], 3)
        self.assertEqual(step_runs(run)["after"].result["message"], "succeeded,succeeded,succeeded")

    def test_an_empty_list_succeeds_with_an_empty_result(self):
        workflow = build_workflow({"each": {"job": "Echo", "for_each": "{{ inputs.hosts }}"}})
        run = wait_for_run(start(workflow, self.admin, {"hosts": []}))
        self.assertEqual(run.status, RUN.SUCCEEDED, run_summary(run))
        self.assertEqual(step_runs(run)["each"].result, [])
        self.assertEqual(item_runs(run, "each"), [])

    def test_a_list_over_the_cap_fails_the_step_with_a_message(self):
        workflow = build_workflow({"each": {"job": "Echo", "for_each": "{{ inputs.hosts }}"}})
        with override_settings(PLUGINS_CONFIG={"nautobot_jobflow": {"for_each_max_items": 3}}):
            run = wait_for_run(start(workflow, self.admin, {"hosts": ["a", "b", "c", "d"]}))
        self.assertEqual(run.status, RUN.FAILED)
        self.assertIn("gave 4 items; at most 3 are allowed", step_runs(run)["each"].error)
        self.assertEqual(item_runs(run, "each"), [], "no item started")

    def test_a_template_that_is_not_a_list_fails_the_step(self):
        workflow = build_workflow({"each": {"job": "Echo", "for_each": "{{ inputs.hosts }}"}})
        run = wait_for_run(start(workflow, self.admin, {"hosts": "r1"}))
        self.assertEqual(run.status, RUN.FAILED)
        self.assertIn("for_each gave str, not a list", run.error)

    def test_object_query_items_are_limited_by_the_users_object_permissions(self):
        devices = create_test_devices(4)
        visible = devices[:2]
        user = create_test_user("foreach-operator")
        permission = ObjectPermission.objects.create(
            name="some devices", actions=["view"], constraints={"pk__in": [str(d.pk) for d in visible]}
        )
        permission.users.add(user)
        permission.object_types.add(ContentType.objects.get(app_label="dcim", model="device"))
        run_jobs = ObjectPermission.objects.create(name="run echo", actions=["run"])
        run_jobs.users.add(user)
        run_jobs.object_types.add(ContentType.objects.get_for_model(Job))
        workflow = build_workflow(
            {
                "each": {
                    "job": "Echo",
                    "inputs": {"message": "{{ item.name }}"},
                    "for_each": {"model": "dcim.device", "filter": {"name": [d.name for d in devices]}},
                }
            }
        )
        run = wait_for_run(start(workflow, user))
        self.assertEqual(run.status, RUN.SUCCEEDED, run_summary(run))
        self.assertEqual(sorted(item.item["id"] for item in item_runs(run, "each")), sorted(str(d.pk) for d in visible))
        admin_run = wait_for_run(start(workflow, self.admin))
        self.assertEqual(len(item_runs(admin_run, "each")), 4, "a superuser sees every device the filter matches")

    def test_concurrency_limits_overlapping_items(self):
        workflow = build_workflow(
            {
                "each": {
                    "job": "MaybeFail",
                    "inputs": {"label": "{{ item }}", "seconds": 1},
                    "for_each": "{{ inputs.hosts }}",
                    "concurrency": 1,
                }
            }
        )
        run = wait_for_run(start(workflow, self.admin, {"hosts": ["a", "b", "c", "d"]}), timeout=120)
        self.assertEqual(run.status, RUN.SUCCEEDED, run_summary(run))
        job_results = JobResult.objects.filter(pk__in=[item.job_result_id for item in item_runs(run, "each")])
        self.assertEqual(job_results.count(), 4)
        # The worker has two processes: without the limit two items would overlap.
        self.assertEqual(max_overlap(job_results), 1)

    def test_tolerated_failures(self):
        steps = {
            "each": {
                "job": "MaybeFail",
                "inputs": {"label": "{{ item.name }}", "fail": "{{ item.fail }}"},
                "for_each": "{{ inputs.hosts }}",
                "max_failures": 1,
            }
        }
        hosts = [{"name": "a", "fail": False}, {"name": "b", "fail": True}, {"name": "c", "fail": False}]
        run = wait_for_run(start(build_workflow(steps), self.admin, {"hosts": hosts}))
        self.assertEqual(run.status, RUN.SUCCEEDED, run_summary(run))
        each = step_runs(run)["each"]
        self.assertEqual(each.result, [{"label": "a"}, None, {"label": "c"}])
        self.assertEqual(each.progress["failed"], 1)
        hosts[2]["fail"] = True
        run = wait_for_run(start(build_workflow(steps), self.admin, {"hosts": hosts}))
        self.assertEqual(run.status, RUN.FAILED)
        self.assertIn("2 of 3 items failed", run.error)
        self.assertIn("First failure, item 1", run.error)

    def test_rerun_from_failed_reruns_only_the_failed_items(self):
        workflow = build_workflow(
            {
                "each": {
                    "job": "Flaky",
                    "inputs": {
                        "key": "{{ inputs.key }}-{{ item }}",
                        "failures": "{{ 1 if item in ['b', 'd'] else 0 }}",
                    },
                    "for_each": "{{ inputs.hosts }}",
                }
            }
        )
        inputs = {"key": f"rerun-{workflow.pk}", "hosts": ["a", "b", "c", "d"]}
        first = wait_for_run(start(workflow, self.admin, inputs))
        self.assertEqual(first.status, RUN.FAILED)
        self.assertEqual([item.status for item in item_runs(first, "each")], [STEP.SUCCEEDED, STEP.FAILED] * 2)
        second = wait_for_run(rerun_from_failed(first, self.admin, "api"))
        self.assertEqual(second.status, RUN.SUCCEEDED, run_summary(second))
        items = item_runs(second, "each")
        self.assertEqual([item.item for item in items], ["a", "b", "c", "d"])
        kept = [item for item in items if item.reused_from_id]
        self.assertEqual([item.item for item in kept], ["a", "c"], "the items that succeeded keep their results")
        self.assertTrue(all(item.job_result_id is None for item in kept), "and run no Job again")
        self.assertEqual([item.result["attempt"] for item in items if not item.reused_from_id], [2, 2])
        self.assertEqual(len(step_runs(second)["each"].result), 4)

    def test_cancel_mid_for_each_cancels_running_items_and_starts_no_more(self):
        workflow = build_workflow(
            {
                "each": {
                    "job": "Sleep",
                    "inputs": {"seconds": 30},
                    "for_each": "{{ inputs.hosts }}",
                    "concurrency": 2,
                }
            }
        )
        run = start(workflow, self.admin, {"hosts": list("abcdef")})
        wait_for(lambda: run.step_runs.filter(item_index__isnull=False, status=STEP.RUNNING).count() == 2)
        cancel_run(run, self.admin)
        run = wait_for_run(run)
        self.assertEqual(run.status, RUN.CANCELED)
        items = item_runs(run, "each")
        self.assertEqual(len(items), 2, "no item started after the cancel")
        self.assertTrue(all(item.status == STEP.CANCELED for item in items))
        wait_for(
            lambda: all(
                JobResult.objects.get(pk=item.job_result_id).status == "REVOKED" for item in items if item.job_result_id
            ),
            message="the running items' JobResults canceled through Nautobot's cancel",
        )


@pytest.mark.worker
@pytest.mark.usefixtures("celery_worker", "second_celery_worker")
class ForEachJoinRaceTest(TransactionTestCase):
    """A join after a for-each starts exactly once, with items finishing on two workers at once."""

    def setUp(self):
        super().setUp()
        refresh_jobs()
        self.admin = create_superuser()

    def test_join_after_for_each_starts_exactly_once(self):
        workflow = build_workflow(
            {
                "each": {"job": "Noop", "for_each": "{{ inputs.hosts }}"},
                "other": "Noop",
                "join": "Noop",
            },
            [("each", "join"), ("other", "join", EdgeTriggerChoices.ON_SUCCESS)],
        )
        runs = [start(workflow, self.admin, {"hosts": list(range(6))}) for _ in range(20)]
        for run in runs:
            run = wait_for_run(run, timeout=180)
            self.assertEqual(run.status, RUN.SUCCEEDED, run_summary(run))
            self.assertEqual(run.step_runs.filter(step_name="join").count(), 1)
            self.assertEqual(len(item_runs(run, "each")), 6)
        self.assertEqual(get_test_job("Noop").job_results.count(), 20 * 8)
