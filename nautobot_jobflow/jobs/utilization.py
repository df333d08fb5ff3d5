"""Interface Utilization Report: the Job, and the job-button receiver for Device and Location pages.

Both run :func:`run_report`, which uses the counting code in :mod:`nautobot_jobflow.reports.utilization`.
"""

from nautobot.apps.jobs import BooleanVar, Job, JobButtonReceiver, MultiObjectVar, ObjectVar
from nautobot.dcim.models import Device, Location
from nautobot.extras.models import Job as JobModel
from nautobot.extras.models import Role, Status

from nautobot_jobflow.choices import LaunchOriginChoices
from nautobot_jobflow.launching.jobs import hold_if_covered
from nautobot_jobflow.launching.permissions import check_job_runnable
from nautobot_jobflow.lib.errors import LaunchForbidden, LaunchRefused
from nautobot_jobflow.reports.utilization import build_report

name = "Jobflow"  # the grouping of these Jobs in Nautobot's Jobs list

# How many "device has no interfaces" warnings are logged one by one; the rest are summarised in one line.
MAX_DEVICE_WARNINGS = 10


def run_report(job, location, **options):
    """Build the report, log it, attach the per-device CSV and return the JSON-serialisable result.

    Args:
        job (Job): the running Job (for its logger and ``create_file``).
        location (Location): where to look.
        **options: passed to :func:`~nautobot_jobflow.reports.utilization.build_report`.
    """
    report = build_report(location, **options)
    if not report.devices:
        job.logger.warning(
            "No devices at %s match (roles: %s, sub-locations %s): the report is empty.",
            report.location,
            ", ".join(report.roles_filter) or "all",
            "included" if report.include_descendants else "not included",
        )
    job.logger.info(report.summary_line())
    job.logger.info(
        "Used statuses: %s. Unused statuses: %s. Interfaces in any other status count as other (%d). %s",
        ", ".join(report.used_statuses) or "none",
        ", ".join(report.unused_statuses) or "none",
        report.totals.other,
        "Physical interfaces only." if report.physical_only else "All interface types.",
    )
    if report.devices:
        job.logger.info("Interface utilization per role:\n\n%s", report.markdown_table())
    empty = report.devices_without_interfaces
    for row in empty[:MAX_DEVICE_WARNINGS]:
        job.logger.warning("Device %s (%s, %s) has no interfaces.", row.device, row.location, row.role)
    if len(empty) > MAX_DEVICE_WARNINGS:
        job.logger.warning(
            "%d more devices have no interfaces (%d in all; see the CSV).",
            len(empty) - MAX_DEVICE_WARNINGS,
            len(empty),
        )
    job.create_file(csv_filename(report.location), report.csv_text())
    return report.as_dict()


def csv_filename(location_name):
    """A file name for the per-device CSV of a location."""
    safe = "".join(char if char.isalnum() or char in "-_." else "-" for char in location_name).strip("-")
    return f"interface-utilization-{safe or 'location'}.csv"


class InterfaceUtilizationReport(Job):
    """Interface usage (used, unused, other) of the devices at a location and below it, per role and per device."""

    location = ObjectVar(model=Location, description="Location to report on.")
    include_descendants = BooleanVar(
        default=True, label="Include sub-locations", description="Also count devices in every location below it."
    )
    roles = MultiObjectVar(
        model=Role,
        required=False,
        query_params={"content_types": "dcim.device"},
        description="Device roles to include; none selected means every role.",
    )
    used_statuses = MultiObjectVar(
        model=Status,
        required=False,
        query_params={"content_types": "dcim.interface"},
        description="Interface statuses counted as used; none selected means Active, Failed and Maintenance.",
    )
    unused_statuses = MultiObjectVar(
        model=Status,
        required=False,
        query_params={"content_types": "dcim.interface"},
        description="Interface statuses counted as unused; none selected means Decommissioning and Planned.",
    )
    physical_only = BooleanVar(
        default=False,
        label="Physical interfaces only",
        description="Leave out virtual, LAG, bridge, tunnel and wireless interfaces.",
    )

    class Meta:
        name = "Interface Utilization Report"
        description = (
            "Counts used, unused and other interfaces of the devices at a location (and below it) by role; "
            "per-device CSV and JSON result."
        )
        has_sensitive_variables = False

    def run(  # pylint: disable=arguments-differ
        self,
        location,
        include_descendants=True,
        roles=None,
        used_statuses=None,
        unused_statuses=None,
        physical_only=False,
    ):
        """Run the report with the form's inputs."""
        return run_report(
            self,
            location,
            include_descendants=include_descendants,
            roles=roles,
            used_statuses=used_statuses,
            unused_statuses=unused_statuses,
            physical_only=physical_only,
        )


class InterfaceUtilizationButton(JobButtonReceiver):
    """Job button receiver: the Interface Utilization Report for a Device (its location and role) or a Location."""

    class Meta:
        name = "Interface Utilization Report (job button)"
        description = "Runs the Interface Utilization Report for the Device or Location whose button was pressed."
        has_sensitive_variables = False

    def run(self, object_pk, object_model_name):  # pylint: disable=arguments-differ
        """Resolve the object as the base class does and return the report's result."""
        self.report_result = None
        super().run(object_pk=object_pk, object_model_name=object_model_name)
        return self.report_result

    def receive_job_button(self, obj):
        """Report on a Device's location for its role, or on a Location for all roles (sub-locations included).

        An approval policy covering the Interface Utilization Report for origin "button" holds the report: the
        button's run then ends with a link to the launch request, and approval runs the report as its own Job.
        """
        self._check_report_runnable()
        if self._held_for_approval(obj):
            return
        if isinstance(obj, Device):
            self.logger.info("Report for device %s: location %s, role %s.", obj.name, obj.location, obj.role)
            self.report_result = run_report(self, obj.location, include_descendants=True, roles=[obj.role])
        elif isinstance(obj, Location):
            self.report_result = run_report(self, obj, include_descendants=True)
        else:
            raise TypeError(f"The interface utilization button works on Devices and Locations, not {obj._meta.label}.")

    def _check_report_runnable(self):
        """The button runs the report in-process: its user must have run permission on the report Job itself.

        Otherwise run permission on the button's receiver alone would give the report to a user refused it.
        (A disabled report Job does not stop the button, as before: only permission is checked here.)
        """
        try:
            check_job_runnable(self._report_job(), self.user)
        except LaunchRefused:
            pass
        except LaunchForbidden as problem:
            self.logger.error("The report was not run: %s", problem)
            raise RuntimeError(f"The report was not run: {problem}") from None

    @staticmethod
    def _report_job():
        return JobModel.objects.get(
            module_name=InterfaceUtilizationReport.__module__, job_class_name=InterfaceUtilizationReport.__name__
        )

    def _held_for_approval(self, obj):
        report_job = self._report_job()
        if not isinstance(obj, (Device, Location)):
            return False
        if isinstance(obj, Device):
            inputs = {"location": str(obj.location_id), "roles": [str(obj.role_id)]}
        else:
            inputs = {"location": str(obj.pk)}
        request = hold_if_covered(report_job, inputs, self.user, LaunchOriginChoices.BUTTON)
        if request is None:
            return False
        self.logger.warning(
            "The report is held for approval by policy '%s': %s", request.policy_name, request.get_absolute_url()
        )
        self.report_result = {"held_for_approval": str(request.pk), "url": request.get_absolute_url()}
        return True
