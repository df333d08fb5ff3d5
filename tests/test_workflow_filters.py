"""FilterSets of the workflow models (Nautobot's generic filter tests plus the app's own filters)."""

from django.contrib.contenttypes.models import ContentType
from nautobot.apps.testing import FilterTestCases
from nautobot.extras.models import Tag

from nautobot_jobflow import filters
from nautobot_jobflow.choices import (
    DryRunModeChoices,
    LaunchOriginChoices,
    StepRunStatusChoices,
    WorkflowRunStatusChoices,
)
from nautobot_jobflow.models import Workflow, WorkflowEdge, WorkflowRun, WorkflowStep, WorkflowStepRun
from tests.fixtures import create_superuser
from tests.fixtures_workflows import add_edge, add_step, create_run, create_workflow


def build_data():
    """Three workflows with steps, edges and runs in different states."""
    tags = [Tag.objects.get_or_create(name=f"wf-tag-{i}")[0] for i in range(2)]
    for tag in tags:
        tag.content_types.add(ContentType.objects.get_for_model(Workflow))
    first = create_workflow("alpha", steps=("a", "b"), description="first one")
    second = create_workflow("beta", steps=("x", "y", "z"), enabled=False, description="second one")
    third = create_workflow("gamma", steps=("only",), chain=False, description="third one")
    add_step(third, "noop", "Noop")
    add_step(third, "fail", "Fail")
    add_edge(third, "only", "fail")
    Workflow.objects.create(name="empty", dryrun_mode=DryRunModeChoices.REFUSE)
    first.tags.add(tags[0])
    second.tags.add(tags[1])
    third.tags.add(*tags)
    user = create_superuser("filter-user")
    create_run(first, status=WorkflowRunStatusChoices.SUCCEEDED, user=user, step_statuses={"a": "succeeded"})
    create_run(first, status=WorkflowRunStatusChoices.FAILED, step_statuses={"a": "failed", "b": "skipped"})
    create_run(second, status=WorkflowRunStatusChoices.RUNNING, dryrun=True, origin=LaunchOriginChoices.API)
    parent = create_run(third, status=WorkflowRunStatusChoices.CANCELED, step_statuses={"only": "canceled"})
    create_run(first, parent_step_run=parent.step_runs.get())


class WorkflowFilterSetTest(FilterTestCases.FilterTestCase):
    queryset = Workflow.objects.all()
    filterset = filters.WorkflowFilterSet
    generic_filter_tests = (["name"], ["description"])

    # Core-only and PrimaryModel-only checks of the generic case (they skip otherwise): not applicable here.
    test_filters_distinct = None

    @classmethod
    def setUpTestData(cls):
        build_data()

    def test_q(self):
        self.assertEqual(
            list(self.filterset({"q": "alph"}, self.queryset).qs.values_list("name", flat=True)), ["alpha"]
        )
        self.assertEqual(self.filterset({"q": "first"}, self.queryset).qs.count(), 1)

    def test_enabled(self):
        self.assertEqual(
            list(self.filterset({"enabled": False}, self.queryset).qs), [Workflow.objects.get(name="beta")]
        )

    def test_job(self):
        qs = self.filterset({"job": ["No-op"]}, self.queryset).qs
        self.assertEqual(list(qs), [Workflow.objects.get(name="gamma")])
        noop = WorkflowStep.objects.get(name="noop").job
        self.assertEqual(self.filterset({"job": [noop.pk]}, self.queryset).qs.count(), 1)
        self.assertEqual(self.filterset({"job": ["Echo"]}, self.queryset).qs.count(), 3)

    def test_has_runs(self):
        self.assertEqual(self.filterset({"has_runs": False}, self.queryset).qs.get().name, "empty")
        self.assertEqual(self.filterset({"has_steps": False}, self.queryset).qs.get().name, "empty")


class WorkflowStepFilterSetTest(FilterTestCases.FilterTestCase):
    queryset = WorkflowStep.objects.all()
    filterset = filters.WorkflowStepFilterSet
    generic_filter_tests = (["name"], ["workflow", "workflow__id"], ["workflow", "workflow__name"], ["job", "job__id"])

    # Core-only and PrimaryModel-only checks of the generic case (they skip otherwise): not applicable here.
    test_filters_distinct = None
    test_tags_filter = None

    @classmethod
    def setUpTestData(cls):
        build_data()

    def test_workflow_by_name(self):
        self.assertEqual(self.filterset({"workflow": ["beta"]}, self.queryset).qs.count(), 3)


class WorkflowEdgeFilterSetTest(FilterTestCases.FilterTestCase):
    queryset = WorkflowEdge.objects.all()
    filterset = filters.WorkflowEdgeFilterSet
    generic_filter_tests = (["workflow", "workflow__id"], ["source", "source__id"], ["target", "target__id"])

    # Core-only and PrimaryModel-only checks of the generic case (they skip otherwise): not applicable here.
    test_filters_distinct = None
    test_tags_filter = None

    @classmethod
    def setUpTestData(cls):
        build_data()

    def test_workflow(self):
        self.assertEqual(self.filterset({"workflow": ["beta"]}, self.queryset).qs.count(), 2)


class WorkflowRunFilterSetTest(FilterTestCases.FilterTestCase):
    queryset = WorkflowRun.objects.all()
    filterset = filters.WorkflowRunFilterSet
    generic_filter_tests = (["workflow", "workflow__id"], ["workflow", "workflow__name"], ["workflow_name"])

    # Core-only and PrimaryModel-only checks of the generic case (they skip otherwise): not applicable here.
    test_filters_distinct = None
    test_tags_filter = None

    @classmethod
    def setUpTestData(cls):
        build_data()

    def test_status_origin_dryrun_user(self):
        self.assertEqual(self.filterset({"status": ["failed", "canceled"]}, self.queryset).qs.count(), 2)
        self.assertEqual(self.filterset({"origin": ["api"]}, self.queryset).qs.get().workflow_name, "beta")
        self.assertEqual(self.filterset({"dryrun": True}, self.queryset).qs.get().workflow_name, "beta")
        self.assertEqual(self.filterset({"user": ["filter-user"]}, self.queryset).qs.count(), 1)

    def test_created_range(self):
        oldest = WorkflowRun.objects.order_by("created").first()
        newer = self.filterset({"created__gt": [oldest.created.isoformat()]}, self.queryset).qs
        self.assertEqual(newer.count(), WorkflowRun.objects.count() - 1)
        self.assertNotIn(oldest, newer)


class WorkflowStepRunFilterSetTest(FilterTestCases.FilterTestCase):
    queryset = WorkflowStepRun.objects.all()
    filterset = filters.WorkflowStepRunFilterSet
    generic_filter_tests = (["step_name"], ["run", "run__id"])

    # Core-only and PrimaryModel-only checks of the generic case (they skip otherwise): not applicable here.
    test_filters_distinct = None
    test_tags_filter = None

    @classmethod
    def setUpTestData(cls):
        build_data()

    def test_status(self):
        self.assertEqual(
            self.filterset({"status": [StepRunStatusChoices.FAILED]}, self.queryset).qs.get().step_name, "a"
        )
