"""Jobs shipped with nautobot-jobflow. Nautobot does not register App jobs itself: ``register_jobs`` does."""

from nautobot.apps.jobs import register_jobs

from nautobot_jobflow.jobs.utilization import InterfaceUtilizationButton, InterfaceUtilizationReport
from nautobot_jobflow.jobs.workflows import ReconcileWorkflowRuns, RunWorkflow

jobs = [InterfaceUtilizationReport, InterfaceUtilizationButton, RunWorkflow, ReconcileWorkflowRuns]

register_jobs(*jobs)
