"""Interface utilization: interfaces of the devices at a location counted by the database in a fixed number of queries.

The counting is independent of Jobs so that a Job, a job button, a workflow step or a benchmark can share it:
:func:`build_report` returns a :class:`UtilizationReport` that renders itself as the summary log line, a Markdown
table per role, a CSV per device and a JSON-serialisable dict.

Queries, whatever the number of devices: the location subtree (one), the devices (one), the interface counts
grouped by device with a count per status bucket (one), plus one to resolve the default statuses by name when none
are given.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.db.models import Count, Q

DEFAULT_USED_STATUSES = ("Active", "Failed", "Maintenance")
DEFAULT_UNUSED_STATUSES = ("Decommissioning", "Planned")
CSV_COLUMNS = ("device", "location", "role", "total", "used", "unused", "other", "used_percent")


def percent(part, total):
    """``part`` as a whole-number percentage of ``total``, 0 when ``total`` is 0.

    Computed exactly as Nautobot's example job does (``round(part / total * 100)``): ``100 * part / total`` rounds
    differently in floating point for some values (23 of 40 is 57.4999… one way and 57.5 the other).
    """
    if not total:
        return 0
    return round(part / total * 100)


def non_physical_interface_types():
    """Interface types that are not physical ports: virtual, bridge, LAG, tunnel and wireless."""
    from nautobot.dcim.constants import NONCONNECTABLE_IFACE_TYPES

    return tuple(NONCONNECTABLE_IFACE_TYPES)


@dataclass
class Counts:
    """Interface counts in the three buckets; ``used + unused + other == total``."""

    used: int = 0
    unused: int = 0
    other: int = 0

    @property
    def total(self):
        """All interfaces counted."""
        return self.used + self.unused + self.other

    @property
    def used_percent(self):
        """Used interfaces as a whole-number percentage of the total."""
        return percent(self.used, self.total)

    @property
    def unused_percent(self):
        """Unused interfaces as a whole-number percentage of the total."""
        return percent(self.unused, self.total)

    @property
    def other_percent(self):
        """Interfaces in any other status as a whole-number percentage of the total."""
        return percent(self.other, self.total)

    def add(self, other):
        """Add another ``Counts`` to this one (in place) and return self."""
        self.used += other.used
        self.unused += other.unused
        self.other += other.other
        return self

    def as_dict(self):
        """JSON-serialisable counts and percentages."""
        return {
            "total": self.total,
            "used": self.used,
            "unused": self.unused,
            "other": self.other,
            "used_percent": self.used_percent,
            "unused_percent": self.unused_percent,
            "other_percent": self.other_percent,
        }


@dataclass
class DeviceRow:
    """One device of the report with its interface counts."""

    device_id: object
    device: str
    location: str
    role: str
    counts: Counts = field(default_factory=Counts)

    def as_dict(self):
        """JSON-serialisable row."""
        row = {"device_id": str(self.device_id), "device": self.device, "location": self.location, "role": self.role}
        return row | self.counts.as_dict()


@dataclass
class RoleRow:
    """Totals of the devices of one role."""

    role: str
    devices: int = 0
    counts: Counts = field(default_factory=Counts)

    def as_dict(self):
        """JSON-serialisable row."""
        return {"role": self.role, "devices": self.devices} | self.counts.as_dict()


@dataclass
class UtilizationReport:
    """The result of :func:`build_report`."""

    location: str
    include_descendants: bool
    roles_filter: list
    used_statuses: list
    unused_statuses: list
    physical_only: bool
    totals: Counts
    roles: list
    devices: list

    @property
    def devices_without_interfaces(self):
        """Rows of the devices that have no interface counted."""
        return [row for row in self.devices if row.counts.total == 0]

    def summary_line(self):
        """The summary in the format of Nautobot's example "Interface Utilization Report"."""
        totals = self.totals
        return (
            f"Interface utilization at {self.location}: Total={totals.total}, "
            f"Used={totals.used} ({totals.used_percent}%), Unused={totals.unused} ({totals.unused_percent}%)"
        )

    def markdown_table(self):
        """Per-role totals as a Markdown table (with a total row)."""
        lines = [
            "| Role | Devices | Total | Used | Unused | Other | Used % |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for row in self.roles:
            lines.append(_markdown_row(row.role, row.devices, row.counts))
        lines.append(_markdown_row("**All roles**", len(self.devices), self.totals, bold=True))
        return "\n".join(lines)

    def csv_text(self):
        """The per-device breakdown as CSV (header: :data:`CSV_COLUMNS`)."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        writer.writerows(
            (
                row.device,
                row.location,
                row.role,
                row.counts.total,
                row.counts.used,
                row.counts.unused,
                row.counts.other,
                row.counts.used_percent,
            )
            for row in self.devices
        )
        return buffer.getvalue()

    def as_dict(self):
        """Everything as JSON-serialisable data (the Job's result, readable by a workflow step)."""
        return {
            "location": self.location,
            "include_descendants": self.include_descendants,
            "roles_filter": list(self.roles_filter),
            "used_statuses": list(self.used_statuses),
            "unused_statuses": list(self.unused_statuses),
            "physical_only": self.physical_only,
            "device_count": len(self.devices),
            "totals": self.totals.as_dict(),
            "roles": [row.as_dict() for row in self.roles],
            "devices": [row.as_dict() for row in self.devices],
        }


def _markdown_row(label, devices, counts, bold=False):
    values = [devices, counts.total, counts.used, counts.unused, counts.other, f"{counts.used_percent}%"]
    cells = [f"**{value}**" if bold else str(value) for value in values]
    return f"| {label} | " + " | ".join(cells) + " |"


def location_pks(location, include_descendants=True):
    """Primary keys of ``location`` and, when asked, every location below it (one query, or none)."""
    from nautobot.dcim.models import Location

    if not include_descendants:
        return [location.pk]
    return list(Location.objects.descendants(location, include_self=True).values_list("pk", flat=True))


def select_devices(location, include_descendants=True, roles=None):
    """Devices at the location (and below it) whose role is one of ``roles`` (all roles when empty)."""
    from nautobot.dcim.models import Device

    devices = Device.objects.filter(location__in=location_pks(location, include_descendants))
    if roles:
        devices = devices.filter(role__in=roles)
    return devices


def resolve_statuses(statuses, default_names):
    """The given statuses, or the statuses named ``default_names`` when none are given: a list of (pk, name)."""
    from nautobot.extras.models import Status

    if statuses:
        return [(status.pk, status.name) for status in statuses]
    return list(Status.objects.filter(name__in=default_names).order_by("name").values_list("pk", "name"))


def count_interfaces(devices, used_status_pks, unused_status_pks, physical_only=False):
    """Interface counts per device id for the ``devices`` queryset, in ONE aggregated query.

    The database groups the interfaces by device and counts them per status bucket (``COUNT(*) FILTER (WHERE
    status_id IN ...)``): grouping by device only is about twice as fast as grouping by (device, status), and the
    query count stays one whatever the number of devices.

    Interfaces of modules installed in a device count as the device's: Nautobot 3.2 stores the root device on
    every modular interface (``Interface.device``, set from the module's bay), as ``Device.all_interfaces`` uses.

    Returns:
        dict: device pk -> :class:`Counts`; devices without interfaces are absent.
    """
    from nautobot.dcim.models import Interface

    interfaces = Interface.objects.filter(device__in=devices.values("pk"))
    if physical_only:
        interfaces = interfaces.exclude(type__in=non_physical_interface_types())
    grouped = (
        interfaces.order_by()
        .values_list("device_id")
        .annotate(
            total=Count("pk"),
            used=Count("pk", filter=Q(status_id__in=list(used_status_pks))),
            unused=Count("pk", filter=Q(status_id__in=list(unused_status_pks))),
        )
    )
    return {
        device_id: Counts(used=used, unused=unused, other=total - used - unused)
        for device_id, total, used, unused in grouped
    }


def build_report(
    location,
    *,
    include_descendants=True,
    roles=None,
    used_statuses=None,
    unused_statuses=None,
    physical_only=False,
):
    """Count the interfaces of the devices at ``location`` and return a :class:`UtilizationReport`.

    Args:
        location (Location): where to look.
        include_descendants (bool): also every location below ``location``.
        roles (iterable of Role): only devices with one of these roles; empty or None means all roles.
        used_statuses (iterable of Status): statuses counted as used; empty means Active, Failed, Maintenance.
        unused_statuses (iterable of Status): statuses counted as unused; empty means Decommissioning, Planned.
        physical_only (bool): leave out virtual, LAG, bridge, tunnel and wireless interfaces.
    """
    roles = list(roles or [])
    used = resolve_statuses(list(used_statuses or []), DEFAULT_USED_STATUSES)
    unused = resolve_statuses(list(unused_statuses or []), DEFAULT_UNUSED_STATUSES)
    used_pks = {pk for pk, _ in used}
    # A status chosen for both buckets counts as used.
    unused = [(pk, name) for pk, name in unused if pk not in used_pks]

    devices = select_devices(location, include_descendants, roles)
    device_rows = [
        DeviceRow(device_id=pk, device=name or str(pk), location=location_name, role=role_name)
        for pk, name, location_name, role_name in devices.order_by("location__name", "name", "pk").values_list(
            "pk", "name", "location__name", "role__name"
        )
    ]
    per_device = count_interfaces(devices, used_pks, [pk for pk, _ in unused], physical_only=physical_only)

    totals = Counts()
    per_role = {}
    for row in device_rows:
        row.counts = per_device.get(row.device_id) or Counts()
        totals.add(row.counts)
        role_row = per_role.setdefault(row.role, RoleRow(role=row.role))
        role_row.devices += 1
        role_row.counts.add(row.counts)

    return UtilizationReport(
        location=str(location),
        include_descendants=include_descendants,
        roles_filter=sorted(role.name for role in roles),
        used_statuses=sorted(name for _, name in used),
        unused_statuses=sorted(name for _, name in unused),
        physical_only=physical_only,
        totals=totals,
        roles=[per_role[name] for name in sorted(per_role)],
        devices=device_rows,
    )
