"""nautobot-jobflow: workflows of Jobs, conditional hook rules, approval policies and reports for Nautobot."""

from importlib import metadata

from nautobot.apps import NautobotAppConfig

from nautobot_jobflow.app_settings import DEFAULTS

__version__ = metadata.version("nautobot-jobflow")


class NautobotJobflowConfig(NautobotAppConfig):
    """App configuration for nautobot-jobflow."""

    name = "nautobot_jobflow"
    verbose_name = "Jobflow"
    version = __version__
    author = "nautobot-jobflow developers"
    description = "Workflows of Jobs, conditional hook rules, approval policies and an interface utilization report."
    base_url = "jobflow"
    required_settings = []
    min_version = "3.2.0"
    max_version = "3.99"
    default_settings = dict(DEFAULTS)
    caching_config = {}
    docs_view_name = "plugins:nautobot_jobflow:docs"
    jobs = "jobs.jobs"
    datasource_contents = "datasources.datasource_contents"  # definitions synced from Git repositories
    metrics = "metrics.metrics"  # served by Nautobot's /metrics endpoint

    def ready(self):
        """Connect the app's signal handlers once Django's app registry is ready."""
        super().ready()
        from nautobot_jobflow import signals  # imports models and receivers: only once the app registry is ready

        signals.connect(self)


config = NautobotJobflowConfig
