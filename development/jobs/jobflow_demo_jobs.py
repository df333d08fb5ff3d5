"""Demo Jobs of the development environment: believable work on the demo inventory, for the example workflows.

They live in the development environment's JOBS_ROOT (``development/jobs``), not in the app: `invoke demo-data`
enables them and builds the example workflows, hook rules and approval policy on them (``development/demo_content.py``,
described in docs/user/getting-started.md). Every Job supports dry run, so an approval's preview shows what a launch
would do. None has sensitive variables: workflows and hook rules store the inputs they pass.
"""

from django.db.models import Count
from nautobot.apps.jobs import BooleanVar, ChoiceVar, DryRunVar, Job, ObjectVar, StringVar, TextVar, register_jobs
from nautobot.dcim.models import Device, Interface

name = "Jobflow demo"

IN_USE = "Active"  # interfaces in any other status count as not in use


class CheckDevice(Job):
    """Count a device's interfaces by status (one aggregate query) and return the counts; fail when asked."""

    device = ObjectVar(model=Device, description="The device to check.")
    fail = BooleanVar(default=False, description="Fail after the check, on purpose (to try failure handling).")
    dryrun = DryRunVar()

    class Meta:
        name = "Check device"
        description = (
            "Counts a device's interfaces by status and returns the counts (interfaces, active, unused, unused "
            "percent). Read-only; fails on request."
        )
        has_sensitive_variables = False

    def run(self, device, fail=False, dryrun=False):
        """Return the counts of ``device``'s interfaces; raise when ``fail``."""
        rows = device.interfaces.values("status__name").annotate(count=Count("pk")).order_by("status__name")
        by_status = {row["status__name"]: row["count"] for row in rows}
        total = sum(by_status.values())
        active = by_status.get(IN_USE, 0)
        unused_percent = round(100 * (total - active) / total) if total else 0
        self.logger.info(
            "%s: %d interfaces, %d active, %d not in use (%d%%)",
            device.name,
            total,
            active,
            total - active,
            unused_percent,
            extra={"object": device},
        )
        if fail:
            raise RuntimeError(f"Check of {device.name} failed on request")
        return {
            "device": device.name,
            "device_id": str(device.pk),
            "interfaces": total,
            "active": active,
            "unused": total - active,
            "unused_percent": unused_percent,
            "by_status": by_status,
        }


def render_config(device):
    """A configuration text rendered from what Nautobot knows of ``device`` (stable for the same data)."""
    lines = [
        f"! {device.device_type.manufacturer} {device.device_type.model}, rendered by nautobot-jobflow's demo",
        f"hostname {device.name}",
        f"! location {device.location}, role {device.role}, status {device.status}",
    ]
    for interface in device.interfaces.select_related("status").order_by("_name"):
        lines.append(f"interface {interface.name}")
        if interface.description:
            lines.append(f"   description {interface.description}")
        lines.append("   no shutdown" if interface.status.name == IN_USE else "   shutdown")
    lines.append("end")
    return "\n".join(lines) + "\n"


class BackupConfig(Job):
    """Render a device's configuration and save it as a file of the Job Result (a dry run saves nothing)."""

    device = ObjectVar(model=Device, description="The device to back up.")
    dryrun = DryRunVar()

    class Meta:
        name = "Back up configuration"
        description = (
            "Renders the device's configuration from Nautobot's data and saves it as <device>.cfg on the Job Result "
            "(download it there). A dry run renders it and saves nothing."
        )
        has_sensitive_variables = False

    def run(self, device, dryrun=False):
        """Render ``device``'s configuration and save it with ``create_file`` unless ``dryrun``."""
        text = render_config(device)
        filename = f"{device.name}.cfg"
        size = {"lines": text.count("\n"), "bytes": len(text.encode())}
        if dryrun:
            self.logger.info("Dry run: would save %s (%d lines)", filename, size["lines"], extra={"object": device})
            return {"device": device.name, "file": None, **size}
        self.create_file(filename, text)
        return {"device": device.name, "file": filename, **size}


class SetInterfaceDescription(Job):
    """Set the description of one interface of a device: a real, change-logged change (dry-run aware)."""

    device = ObjectVar(model=Device, description="The device.")
    interface = ObjectVar(
        model=Interface,
        query_params={"device_id": "$device"},
        required=False,
        description="The interface (empty: the device's management interface, else its first interface).",
    )
    description = StringVar(max_length=200, description="The new description.")
    dryrun = DryRunVar()

    class Meta:
        name = "Set interface description"
        description = (
            "Sets the description of an interface (by default the device's management interface). A dry run reports "
            "the change and makes none."
        )
        has_sensitive_variables = False

    def run(self, device, description, interface=None, dryrun=False):
        """Change ``interface``'s description (saved only when it differs, and not in a dry run)."""
        if interface is None:
            interfaces = device.interfaces.order_by("-mgmt_only", "_name")
            interface = interfaces.first()
            if interface is None:
                raise RuntimeError(f"{device.name} has no interfaces")
        elif interface.device_id != device.pk:
            raise RuntimeError(f"Interface {interface} is not on {device.name}")
        before = interface.description
        changed = before != description
        outcome = {"device": device.name, "interface": interface.name, "before": before, "after": description}
        if dryrun or not changed:
            self.logger.info(
                "%s %s: description %r → %r", "Dry run, would change" if changed else "Unchanged",
                interface.name, before, description, extra={"object": interface},
            )  # fmt: skip
            return {**outcome, "changed": False, "would_change": changed}
        interface.description = description
        interface.validated_save()
        self.logger.info("%s: description %r → %r", interface.name, before, description, extra={"object": interface})
        return {**outcome, "changed": True, "would_change": True}


class OpenTicket(Job):
    """Open a ticket in the (imaginary) ticketing system: one log line with the ticket's id."""

    summary = StringVar(max_length=255, description="One line: what happened.")
    details = TextVar(required=False, description="More text for the ticket.")
    severity = ChoiceVar(choices=(("low", "Low"), ("medium", "Medium"), ("high", "High")), default="low")
    dryrun = DryRunVar()

    class Meta:
        name = "Open ticket"
        description = (
            "Opens a ticket (here: logs it with an id NET-… and returns the id), as a notification step would. "
            "A dry run opens none."
        )
        has_sensitive_variables = False

    def run(self, summary, details="", severity="low", dryrun=False):
        """Log the ticket and return its id (derived from the Job Result, so each run opens a new one)."""
        if dryrun:
            self.logger.info("Dry run: would open a %s ticket: %s", severity, summary)
            return {"ticket": None, "summary": summary, "severity": severity}
        ticket = f"NET-{str(self.job_result.pk)[:8].upper()}"
        self.logger.info("Opened ticket %s (%s): %s", ticket, severity, summary)
        if details:
            self.logger.info("%s details: %s", ticket, details)
        return {"ticket": ticket, "summary": summary, "severity": severity}


class FailOnRequest(Job):
    """Stand in for a change that can break (a configuration push): succeed, or fail when told to."""

    device = ObjectVar(model=Device, required=False, description="The device the simulated change is for.")
    fail = BooleanVar(default=True, description="Fail (the default), or succeed.")
    message = StringVar(required=False, default="the device did not answer (simulated)", description="The error.")
    dryrun = DryRunVar()

    class Meta:
        name = "Fail on request"
        description = (
            "Simulates a change that can fail (a configuration push): fails with the given message when 'fail' is "
            "set, succeeds otherwise. A dry run always succeeds."
        )
        has_sensitive_variables = False

    def run(self, device=None, fail=True, message="", dryrun=False):
        """Raise with ``message`` when ``fail`` (and not a dry run); otherwise report success."""
        target = device.name if device else "the device"
        if fail and not dryrun:
            self.logger.error("Push to %s failed: %s", target, message or "failing on request")
            raise RuntimeError(f"Push to {target} failed: {message or 'failing on request'}")
        self.logger.info("%s: pushed to %s", "Dry run" if dryrun else "Done", target)
        return {"device": device.name if device else None, "pushed": not dryrun}


jobs = [CheckDevice, BackupConfig, SetInterfaceDescription, OpenTicket, FailOnRequest]
register_jobs(*jobs)
