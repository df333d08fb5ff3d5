"""Navigation menu of nautobot-jobflow: one "Jobflow" tab; each capability adds its group here."""

from nautobot.apps.ui import NavMenuGroup, NavMenuItem, NavMenuTab
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
        ),
    ),
)
