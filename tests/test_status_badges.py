"""Status columns are core's ChoiceFieldColumn: badges coloured by the ChoiceSet's CSS_CLASSES, with its labels."""

from nautobot.apps.tables import ChoiceFieldColumn
from nautobot.apps.testing import TestCase

from nautobot_jobflow import tables
from nautobot_jobflow.choices import (
    HookFiringStatusChoices,
    LaunchOriginChoices,
    LaunchRequestStatusChoices,
    StepRunStatusChoices,
    WorkflowRunStatusChoices,
)
from nautobot_jobflow.models import HookFiring, LaunchRequest, WorkflowRun, WorkflowStepRun
from tests.fixtures_hooks import create_rule
from tests.fixtures_workflows import create_run, create_workflow


class StatusBadgeTest(TestCase):
    """Every state of runs, step attempts, launch requests and firings keeps its colour in the tables."""

    @classmethod
    def setUpTestData(cls):
        cls.workflow_run = create_run(create_workflow("badge-wf"), step_statuses={"a": StepRunStatusChoices.SUCCEEDED})
        cls.launch_request = LaunchRequest.objects.create(
            target_name="badge", origin=LaunchOriginChoices.UI, user_name="someone", policy_name="badge-policy"
        )
        cls.firing = HookFiring.objects.create(rule=create_rule(), status=HookFiringStatusChoices.FIRED)

    def badges(self, table_class, model, pk, choices):
        """The status cell of the object's row, once per state of ``choices``."""
        for value, label in choices.CHOICES:
            model.objects.filter(pk=pk).update(status=value)
            table = table_class(model.objects.filter(pk=pk))
            self.assertIsInstance(table.columns["status"].column, ChoiceFieldColumn)
            yield value, label, table.rows[0].get_cell("status")

    def test_status_cells_are_coloured_badges(self):
        step_run = WorkflowStepRun.objects.get(run=self.workflow_run)
        for table_class, model, pk, choices in (
            (tables.WorkflowRunTable, WorkflowRun, self.workflow_run.pk, WorkflowRunStatusChoices),
            (tables.WorkflowStepRunTable, WorkflowStepRun, step_run.pk, StepRunStatusChoices),
            (tables.LaunchRequestTable, LaunchRequest, self.launch_request.pk, LaunchRequestStatusChoices),
            (tables.HookFiringTable, HookFiring, self.firing.pk, HookFiringStatusChoices),
        ):
            self.assertEqual(set(choices.CSS_CLASSES), set(choices.values()), choices)
            for value, label, cell in self.badges(table_class, model, pk, choices):
                self.assertEqual(cell, f'<span class="badge bg-{choices.CSS_CLASSES[value]}">{label}</span>', value)

    def test_a_failed_run_is_red(self):
        self.workflow_run.status = WorkflowRunStatusChoices.FAILED
        self.workflow_run.save()
        cell = tables.WorkflowRunTable(WorkflowRun.objects.filter(pk=self.workflow_run.pk)).rows[0].get_cell("status")
        self.assertEqual(cell, '<span class="badge bg-danger">Failed</span>')
