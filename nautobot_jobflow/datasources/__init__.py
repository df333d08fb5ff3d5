"""Definitions synced from Git: the contents a Nautobot Git repository can provide to the app.

Nautobot finds ``datasource_contents`` here (``NautobotJobflowConfig.datasource_contents``) and lists the three in
the repository form's "Provides" choices; its "Git Repository: Sync" Job calls their callbacks in weight order,
after core's own Jobs (weight 300), so a workflow may run Jobs of the same repository. See ``sync`` for the rules.
"""

from nautobot.apps.datasources import DatasourceContent

from nautobot_jobflow.datasources.sync import APPROVAL_POLICIES, HOOK_RULES, WORKFLOWS, refresh


def refresh_workflows(repository_record, job_result, delete=False):
    """Callback of "jobflow workflows": ``jobflow/workflows/*.yaml``."""
    refresh(WORKFLOWS, repository_record, job_result, delete=delete)


def refresh_hook_rules(repository_record, job_result, delete=False):
    """Callback of "jobflow hook rules": ``jobflow/hook_rules/*.yaml``."""
    refresh(HOOK_RULES, repository_record, job_result, delete=delete)


def refresh_approval_policies(repository_record, job_result, delete=False):
    """Callback of "jobflow approval policies": ``jobflow/approval_policies/*.yaml`` (runs last: deletes the stale)."""
    refresh(APPROVAL_POLICIES, repository_record, job_result, delete=delete)


datasource_contents = [
    (
        "extras.gitrepository",
        DatasourceContent(
            name=WORKFLOWS.name,
            content_identifier=WORKFLOWS.content_identifier,
            icon="mdi-sitemap-outline",
            weight=500,
            callback=refresh_workflows,
        ),
    ),
    (
        "extras.gitrepository",
        DatasourceContent(
            name=HOOK_RULES.name,
            content_identifier=HOOK_RULES.content_identifier,
            icon="mdi-webhook",
            weight=510,
            callback=refresh_hook_rules,
        ),
    ),
    (
        "extras.gitrepository",
        DatasourceContent(
            name=APPROVAL_POLICIES.name,
            content_identifier=APPROVAL_POLICIES.content_identifier,
            icon="mdi-shield-check-outline",
            weight=520,
            callback=refresh_approval_policies,
        ),
    ),
]
