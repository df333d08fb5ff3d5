"""Interface Utilization Report: Nautobot's example algorithm (3 COUNT queries) vs the full report on the same data."""

import json
import random
import statistics
import time

DESCRIPTION = "reference (3 COUNT queries) vs full report (breakdown + CSV + JSON) on the same data"
DATABASE = "jobflow_benchmark"
ROLES = ("leaf", "spine", "border", "access")


def reference(location, roles):
    """Nautobot's example "Interface Utilization Report": three COUNT queries and the summary line."""
    from nautobot.dcim.models import Device, Interface

    devices = Device.objects.filter(location=location, role__in=roles)
    interfaces = Interface.objects.filter(device__in=devices)
    total = interfaces.count()
    used = interfaces.filter(status__name__in=["Active", "Failed", "Maintenance"]).count()
    unused = interfaces.filter(status__name__in=["Decommissioning", "Planned"]).count()
    return (
        f"Interface utilization at {location}: Total={total}, Used={used} ({round(used / total * 100)}%), "
        f"Unused={unused} ({round(unused / total * 100)}%)"
    )


def full_report(location, roles):
    """Our report with every output: per-role and per-device breakdown, CSV text and JSON result."""
    from nautobot_jobflow.reports.utilization import build_report

    report = build_report(location, roles=roles)
    report.markdown_table()
    report.csv_text()
    json.dumps(report.as_dict())
    return report.summary_line()


def build_data(devices, interfaces):
    """All devices in one site (below a city and a region) with random roles and interface statuses."""
    from django.db import connection

    from tests import fixtures_dcim as dcim

    tree = dcim.create_location_tree(prefix="Bench")
    roles = [dcim.role(name) for name in ROLES]
    rng = random.Random(2026)
    created = []
    per_role = [devices // len(roles) + (1 if index < devices % len(roles) else 0) for index in range(len(roles))]
    for role, count in zip(roles, per_role, strict=True):
        created += dcim.create_devices(count, tree["site_a"], role, prefix=role.name)
    dcim.add_random_interfaces(created, interfaces, seed=rng.randint(0, 10**6))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE dcim_device; ANALYZE dcim_interface; ANALYZE extras_status")
    return tree["site_a"], roles


def median_seconds(functions, repeat):
    """Median run time of each function; the runs alternate so that load from other processes hits all alike."""
    for function in functions.values():
        function()  # warm-up (imports, caches, plans)
    times = {name: [] for name in functions}
    for _ in range(repeat):
        for name, function in functions.items():
            started = time.perf_counter()
            function()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def run(options):
    """Build the data in a scratch database, time both algorithms, check they agree, return the lines to print."""
    from scratch import scratch_database

    lines = []
    with scratch_database(DATABASE):
        started = time.monotonic()
        location, roles = build_data(options.devices, options.interfaces)
        lines.append(
            f"data: {options.devices} devices x {options.interfaces} interfaces "
            f"= {options.devices * options.interfaces} interfaces, built in {time.monotonic() - started:.1f}s"
        )
        expected = reference(location, roles)
        got = full_report(location, roles)
        if got != expected:
            raise SystemExit(f"The report and the reference disagree:\n  reference: {expected}\n  report:    {got}")
        lines.append(f"both print: {got}")

        medians = median_seconds(
            {
                "reference": lambda: reference(location, roles),
                "report": lambda: full_report(location, roles),
                "job": _job_runner(location, roles),
            },
            options.repeat,
        )
        ref = medians["reference"]
        label = "reference (3 COUNT queries):"
        lines.append(f"{label:48s}{ref * 1000:8.1f} ms   (median of {options.repeat}, runs alternating)")
        for name, label in (
            ("report", "report (breakdown + CSV + JSON):"),
            ("job", "whole Job in-process (+ JobResult, logs, file):"),
        ):
            lines.append(f"{label:48s}{medians[name] * 1000:8.1f} ms   ratio {medians[name] / ref:.2f}")
    return lines


def _job_runner(location, roles):
    from nautobot.apps.testing import run_job_for_testing
    from nautobot.extras.choices import JobResultStatusChoices
    from nautobot.extras.models import Job

    job = Job.objects.get(module_name="nautobot_jobflow.jobs.utilization", job_class_name="InterfaceUtilizationReport")
    kwargs = {"location": str(location.pk), "roles": [str(role.pk) for role in roles]}

    def run_job():
        job_result = run_job_for_testing(job, job_kwargs=kwargs)
        if job_result.status != JobResultStatusChoices.STATUS_SUCCESS:
            raise SystemExit(f"The Job failed: {job_result.traceback}")

    return run_job
