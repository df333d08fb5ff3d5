"""Jobs shipped with nautobot-jobflow. Nautobot does not register App jobs itself: ``register_jobs`` does."""

from nautobot.apps.jobs import register_jobs

from nautobot_jobflow.jobs.utilization import InterfaceUtilizationButton, InterfaceUtilizationReport

jobs = []
jobs.append(InterfaceUtilizationReport)
jobs.append(InterfaceUtilizationButton)

register_jobs(*jobs)
