"""Jobs shipped with nautobot-jobflow. Nautobot does not register App jobs itself: ``register_jobs`` does."""

from nautobot.apps.jobs import register_jobs

jobs = []

register_jobs(*jobs)
