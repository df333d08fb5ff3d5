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


def median_seconds(function, repeat):
    function()  # warm-up (imports, caches, plans)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


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

        ref = median_seconds(lambda: reference(location, roles), options.repeat)
        ours = median_seconds(lambda: full_report(location, roles), options.repeat)
        lines.append(f"reference (3 COUNT queries):             {ref * 1000:8.1f} ms (median of {options.repeat})")
        lines.append(f"report (breakdown + CSV + JSON):         {ours * 1000:8.1f} ms   ratio {ours / ref:.2f}")
        job = _job_runner(location, roles)
        whole = median_seconds(job, max(3, options.repeat // 2))
        lines.append(
            f"whole Job in-process (+ JobResult, logs, file): {whole * 1000:8.1f} ms   ratio {whole / ref:.2f}"
        )
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
