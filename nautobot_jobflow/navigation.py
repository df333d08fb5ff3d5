"""Navigation menu of nautobot-jobflow: one "Jobflow" tab; each capability adds its group here."""

from nautobot.apps.ui import NavMenuAddButton, NavMenuGroup, NavMenuItem, NavMenuTab
from nautobot.core.ui.choices import NavigationIconChoices

menu_items = (
    NavMenuTab(
        name="Jobflow",
        icon=NavigationIconChoices.JOBS,
        weight=650,
        groups=(
            NavMenuGroup(
                name="Jobflow",
                weight=100,
                items=(
                    NavMenuItem(
                        link="plugins:nautobot_jobflow:home",
                        name="Overview",
                        weight=100,
                        permissions=["extras.view_job"],
                    ),
                ),
            ),
            NavMenuGroup(
                name="Workflows",
                weight=200,
                items=(
                    NavMenuItem(
                        link="plugins:nautobot_jobflow:workflow_list",
                        name="Workflows",
                        weight=100,
                        permissions=["nautobot_jobflow.view_workflow"],
                        buttons=(
                            NavMenuAddButton(
                                link="plugins:nautobot_jobflow:workflow_add",
                                permissions=["nautobot_jobflow.add_workflow"],
                            ),
                        ),
                    ),
                    NavMenuItem(
                        link="plugins:nautobot_jobflow:workflow_import_yaml",
                        name="Import workflow (YAML)",
                        weight=200,
                        permissions=["nautobot_jobflow.add_workflow"],
                    ),
                    NavMenuItem(
                        link="plugins:nautobot_jobflow:workflowrun_list",
                        name="Workflow Runs",
                        weight=300,
                        permissions=["nautobot_jobflow.view_workflowrun"],
                    ),
                    NavMenuItem(
                        link="plugins:nautobot_jobflow:awaiting_input",
                        name="Awaiting my input",
                        weight=350,
                        permissions=["nautobot_jobflow.view_workflowsteprun"],
                    ),
                    NavMenuItem(
                        link="plugins:nautobot_jobflow:workflowbutton_list",
                        name="Workflow Buttons",
                        weight=400,
                        permissions=["nautobot_jobflow.view_workflowbutton"],
                        buttons=(
                            NavMenuAddButton(
                                link="plugins:nautobot_jobflow:workflowbutton_add",
                                permissions=["nautobot_jobflow.add_workflowbutton"],
                            ),
                        ),
                    ),
                ),
            ),
            NavMenuGroup(
                name="Approvals",
                weight=300,
                items=(
                    NavMenuItem(
                        link="plugins:nautobot_jobflow:launchrequest_list",
                        name="Approvals",
                        weight=100,
                        permissions=["nautobot_jobflow.view_launchrequest"],
                        query_params={"awaiting_me": "True"},
                    ),
                    NavMenuItem(
                        link="plugins:nautobot_jobflow:launchrequest_list",
                        name="Launch Requests",
                        weight=150,
                        permissions=["nautobot_jobflow.view_launchrequest"],
                    ),
                    NavMenuItem(
                        link="plugins:nautobot_jobflow:launchrequest_request_run",
                        name="Request a Job run",
                        weight=170,
                        permissions=["nautobot_jobflow.view_launchrequest"],
                    ),
                    NavMenuItem(
                        link="plugins:nautobot_jobflow:approvalpolicy_list",
                        name="Approval Policies",
                        weight=200,
                        permissions=["nautobot_jobflow.view_approvalpolicy"],
                        buttons=(
                            NavMenuAddButton(
                                link="plugins:nautobot_jobflow:approvalpolicy_add",
                                permissions=["nautobot_jobflow.add_approvalpolicy"],
                            ),
                        ),
                    ),
                ),
            ),
            NavMenuGroup(
                name="Hook Rules",
                weight=300,
                items=(
                    NavMenuItem(
                        link="plugins:nautobot_jobflow:hookrule_list",
                        name="Hook Rules",
                        weight=100,
                        permissions=["nautobot_jobflow.view_hookrule"],
                        buttons=(
                            NavMenuAddButton(
                                link="plugins:nautobot_jobflow:hookrule_add",
                                permissions=["nautobot_jobflow.add_hookrule"],
                            ),
                        ),
                    ),
                ),
            ),
        ),
    ),
)
