"""Interface Utilization Report: hand-computed counts, the Job's outputs, the reference algorithm, queries."""

import csv
import io
import json
import random

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from nautobot.apps.testing import TestCase, TransactionTestCase, run_job_for_testing
from nautobot.dcim.models import Device, Interface
from nautobot.extras.choices import JobResultStatusChoices
from nautobot.extras.models import Job, JobLogEntry

from nautobot_jobflow.reports.utilization import CSV_COLUMNS, build_report, count_interfaces, percent, select_devices
from tests import fixtures_dcim as dcim
from tests.fixtures import refresh_jobs

REPORT_JOB = ("nautobot_jobflow.jobs.utilization", "InterfaceUtilizationReport")


def build_scenario():
    """The hand-computed data set used by most tests (numbers in the docstrings of the tests).

    - site A: 2 leaf devices with Active 3, Failed 1, Planned 2 (6 = 4 used + 2 unused) each;
      1 spine with Active 5, Maintenance 1, Decommissioning 2 (8 = 6 + 2)
    - site B: 1 leaf with Active 1, Planned 3 (4 = 1 + 3); 1 leaf without interfaces
    - the city itself (parent of both sites): 1 spine with Active 2 (2 = 2 + 0)
    - another region: 1 leaf with Active 10 (never part of the reports below)
    """
    tree = dcim.create_location_tree()
    leaf, spine = dcim.role("leaf"), dcim.role("spine")
    site_a_leaves = dcim.create_devices(2, tree["site_a"], leaf, prefix="a-leaf")
    dcim.add_interfaces(site_a_leaves, {"Active": 3, "Failed": 1, "Planned": 2})
    site_a_spine = dcim.create_devices(1, tree["site_a"], spine, prefix="a-spine")
    dcim.add_interfaces(site_a_spine, {"Active": 5, "Maintenance": 1, "Decommissioning": 2})
    site_b_leaf = dcim.create_devices(1, tree["site_b"], leaf, prefix="b-leaf")
    dcim.add_interfaces(site_b_leaf, {"Active": 1, "Planned": 3})
    empty = dcim.create_devices(1, tree["site_b"], leaf, prefix="b-empty")
    city_spine = dcim.create_devices(1, tree["city"], spine, prefix="city-spine")
    dcim.add_interfaces(city_spine, {"Active": 2})
    elsewhere = dcim.create_devices(1, tree["other_site"], leaf, prefix="elsewhere")
    dcim.add_interfaces(elsewhere, {"Active": 10})
    return {
        "tree": tree,
        "leaf": leaf,
        "spine": spine,
        "site_a_spine": site_a_spine[0],
        "city_spine": city_spine[0],
        "empty": empty[0],
        "site_b_leaf": site_b_leaf[0],
    }


def totals(report):
    return report.totals.as_dict()


class PercentTest(TestCase):
    def test_whole_numbers_and_zero_total(self):
        self.assertEqual(percent(17, 26), 65)
        self.assertEqual(percent(9, 26), 35)
        self.assertEqual(percent(0, 0), 0)
        self.assertEqual(percent(3, 3), 100)

    def test_same_floating_point_as_the_reference(self):
        """23/40*100 is 57.49999… in floating point, 100*23/40 is 57.5: the reference's order gives 57."""
        self.assertEqual(percent(23, 40), 57)
        for total in range(1, 400):
            for part in range(total + 1):
                self.assertEqual(percent(part, total), round(part / total * 100), (part, total))


class CountingTest(TestCase):
    """build_report against hand-computed numbers."""

    def setUp(self):
        super().setUp()
        self.data = build_scenario()
        self.tree = self.data["tree"]

    def test_region_with_descendants(self):
        """26 interfaces on 6 devices: used 4+4+6+1+2 = 17 (65%), unused 2+2+2+3 = 9 (35%)."""
        report = build_report(self.tree["region"])
        self.assertEqual(len(report.devices), 6)
        self.assertEqual(
            totals(report),
            {
                "total": 26,
                "used": 17,
                "unused": 9,
                "other": 0,
                "used_percent": 65,
                "unused_percent": 35,
                "other_percent": 0,
            },
        )
        self.assertEqual(
            report.summary_line(),
            f"Interface utilization at {self.tree['region'].name}: Total=26, Used=17 (65%), Unused=9 (35%)",
        )

    def test_without_descendants_only_the_location_itself(self):
        """The city alone has one spine with Active 2; the region alone has no devices."""
        city = build_report(self.tree["city"], include_descendants=False)
        self.assertEqual([row.device for row in city.devices], [self.data["city_spine"].name])
        self.assertEqual((city.totals.total, city.totals.used, city.totals.used_percent), (2, 2, 100))
        region = build_report(self.tree["region"], include_descendants=False)
        self.assertEqual(region.devices, [])
        self.assertEqual(totals(region)["total"], 0)
        self.assertEqual(
            region.summary_line(),
            f"Interface utilization at {self.tree['region'].name}: Total=0, Used=0 (0%), Unused=0 (0%)",
        )

    def test_roles_filter(self):
        """Leaf only: 6+6+4+0 = 16 interfaces, used 4+4+1 = 9 (56%), unused 2+2+3 = 7 (44%)."""
        report = build_report(self.tree["region"], roles=[self.data["leaf"]])
        self.assertEqual(len(report.devices), 4)
        self.assertEqual(
            (report.totals.total, report.totals.used, report.totals.unused, report.totals.used_percent), (16, 9, 7, 56)
        )
        self.assertEqual(report.totals.unused_percent, 44)
        self.assertEqual([row.role for row in report.roles], ["leaf"])

    def test_per_role_rows(self):
        """leaf: 4 devices, 16 interfaces, 9 used; spine: 2 devices, 10 interfaces, 8 used (80%)."""
        report = build_report(self.tree["region"])
        rows = {
            row.role: (row.devices, row.counts.total, row.counts.used, row.counts.used_percent) for row in report.roles
        }
        self.assertEqual(rows, {"leaf": (4, 16, 9, 56), "spine": (2, 10, 8, 80)})
        table = report.markdown_table().splitlines()
        self.assertEqual(table[0], "| Role | Devices | Total | Used | Unused | Other | Used % |")
        self.assertEqual(table[2], "| leaf | 4 | 16 | 9 | 7 | 0 | 56% |")
        self.assertEqual(table[3], "| spine | 2 | 10 | 8 | 2 | 0 | 80% |")
        self.assertEqual(table[4], "| **All roles** | **6** | **26** | **17** | **9** | **0** | **65%** |")

    def test_custom_statuses_and_other_bucket(self):
        """Used = Active (3+3+5+1+2 = 14), unused = Planned (2+2+3 = 7), other = Failed, Maintenance, Decom. = 5."""
        report = build_report(
            self.tree["region"], used_statuses=[dcim.status("Active")], unused_statuses=[dcim.status("Planned")]
        )
        self.assertEqual((report.totals.used, report.totals.unused, report.totals.other), (14, 7, 5))
        self.assertEqual(report.totals.total, 26)
        self.assertEqual((report.used_statuses, report.unused_statuses), (["Active"], ["Planned"]))

    def test_status_in_both_lists_counts_as_used(self):
        """Used = Active + Planned (14 + 7 = 21), unused = Planned (already used, so none), other = 5."""
        active, planned = dcim.status("Active"), dcim.status("Planned")
        report = build_report(self.tree["region"], used_statuses=[active, planned], unused_statuses=[planned])
        self.assertEqual((report.totals.used, report.totals.unused, report.totals.other), (21, 0, 5))
        self.assertEqual(report.unused_statuses, [])

    def test_status_outside_default_sets_is_other(self):
        """Two interfaces in a custom status "Reserved" on the site B leaf: total 28, used 17, unused 9, other 2."""
        dcim.add_interfaces([self.data["site_b_leaf"]], {"Reserved": 2}, prefix="res")
        report = build_report(self.tree["region"])
        self.assertEqual(
            (report.totals.total, report.totals.used, report.totals.unused, report.totals.other), (28, 17, 9, 2)
        )
        row = next(row for row in report.devices if row.device == self.data["site_b_leaf"].name)
        self.assertEqual((row.counts.total, row.counts.other), (6, 2))

    def test_physical_only_leaves_out_virtual_and_lag(self):
        """3 virtual + 1 LAG (Active) on the site A spine count by default (30) and not with physical_only (26)."""
        spine = self.data["site_a_spine"]
        dcim.add_interfaces([spine], {"Active": 3}, interface_type="virtual", prefix="vlan")
        dcim.add_interfaces([spine], {"Active": 1}, interface_type="lag", prefix="po")
        everything = build_report(self.tree["region"])
        self.assertEqual((everything.totals.total, everything.totals.used), (30, 21))
        physical = build_report(self.tree["region"], physical_only=True)
        self.assertEqual((physical.totals.total, physical.totals.used, physical.totals.unused), (26, 17, 9))

    def test_devices_without_interfaces_are_in_the_breakdown(self):
        report = build_report(self.tree["region"])
        empty = [row.device for row in report.devices_without_interfaces]
        self.assertEqual(empty, [self.data["empty"].name])
        row = next(row for row in report.devices if row.device == self.data["empty"].name)
        self.assertEqual((row.counts.total, row.counts.used_percent), (0, 0))

    def test_interfaces_on_modules_count_for_the_device(self):
        """A line card (Active 2, Planned 1) and a nested card (Failed 1) on the city spine: 2 + 4 = 6, used 5."""
        dcim.install_module(
            self.data["city_spine"], {"Active": 2, "Planned": 1}, nested_interface_statuses={"Failed": 1}
        )
        self.assertEqual(self.data["city_spine"].all_interfaces.count(), 6)
        report = build_report(self.tree["city"], include_descendants=False)
        self.assertEqual((report.totals.total, report.totals.used, report.totals.unused), (6, 5, 1))
        region = build_report(self.tree["region"])
        self.assertEqual(region.totals.total, 30)

    def test_csv_and_dict(self):
        report = build_report(self.tree["site_b"])
        rows = list(csv.reader(io.StringIO(report.csv_text())))
        self.assertEqual(tuple(rows[0]), CSV_COLUMNS)
        site = self.tree["site_b"].name
        self.assertEqual(
            rows[1:],
            [
                [self.data["empty"].name, site, "leaf", "0", "0", "0", "0", "0"],
                [self.data["site_b_leaf"].name, site, "leaf", "4", "1", "3", "0", "25"],
            ],
        )
        data = report.as_dict()
        self.assertEqual(json.loads(json.dumps(data)), data)
        self.assertEqual(data["totals"]["total"], 4)
        self.assertEqual(data["device_count"], 2)


class ReferenceAlgorithmTest(TestCase):
    """Nautobot's example job and ours give the same numbers and the same log line on the same random data."""

    @staticmethod
    def reference(location, roles):
        """Nautobot's example "Interface Utilization Report": three COUNT queries over the filtered interfaces."""
        devices = Device.objects.filter(location=location, role__in=roles)
        interfaces = Interface.objects.filter(device__in=devices)
        total = interfaces.count()
        used = interfaces.filter(status__name__in=["Active", "Failed", "Maintenance"]).count()
        unused = interfaces.filter(status__name__in=["Decommissioning", "Planned"]).count()
        used_pct = round(used / total * 100)
        unused_pct = round(unused / total * 100)
        line = (
            f"Interface utilization at {location}: Total={total}, Used={used} ({used_pct}%), "
            f"Unused={unused} ({unused_pct}%)"
        )
        return total, used, unused, used_pct, unused_pct, line

    def test_same_totals_and_line_on_random_data(self):
        tree, roles = build_random_data()
        for site in ("site_a", "site_b", "city"):
            for chosen in (roles, roles[:1], roles[1:]):
                expected = self.reference(tree[site], chosen)
                report = build_report(tree[site], include_descendants=False, roles=chosen)
                got = (
                    report.totals.total,
                    report.totals.used,
                    report.totals.unused,
                    report.totals.used_percent,
                    report.totals.unused_percent,
                    report.summary_line(),
                )
                self.assertEqual(got, expected)


def build_random_data(seed=20261129):
    """Three locations x three roles with random device counts and random interface statuses."""
    rng = random.Random(seed)
    tree = dcim.create_location_tree()
    roles = [dcim.role(name) for name in ("leaf", "spine", "border")]
    for site in ("site_a", "site_b", "city"):
        for index, device_role in enumerate(roles):
            devices = dcim.create_devices(rng.randint(2, 8), tree[site], device_role, prefix=f"r{index}")
            dcim.add_random_interfaces(devices, rng.randint(1, 30), seed=rng.randint(0, 10**6))
    return tree, roles


class JobVersusReferenceTest(TransactionTestCase):
    """The Job (not only the counting function) prints the reference's line and returns its numbers."""

    def setUp(self):
        super().setUp()
        refresh_jobs()

    def test_job_log_line_and_result_equal_the_reference(self):
        tree, roles = build_random_data(seed=99)
        job = Job.objects.get(module_name=REPORT_JOB[0], job_class_name=REPORT_JOB[1])
        for site, chosen in (("site_a", roles), ("city", roles[1:])):
            total, used, unused, used_pct, unused_pct, line = ReferenceAlgorithmTest.reference(tree[site], chosen)
            job_result = run_job_for_testing(
                job,
                job_kwargs={
                    "location": str(tree[site].pk),
                    "include_descendants": False,
                    "roles": [str(role.pk) for role in chosen],
                },
            )
            job_result.refresh_from_db()
            self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_SUCCESS, job_result.traceback)
            got = job_result.result["totals"]
            self.assertEqual(
                (got["total"], got["used"], got["unused"], got["used_percent"], got["unused_percent"]),
                (total, used, unused, used_pct, unused_pct),
            )
            logged = JobLogEntry.objects.filter(job_result=job_result, message__startswith="Interface utilization at ")
            self.assertEqual(list(logged.values_list("message", flat=True)), [line])


class QueryCountTest(TestCase):
    """The number of queries does not depend on the number of devices."""

    def queries(self, location, **options):
        with CaptureQueriesContext(connection) as context:
            report = build_report(location, **options)
        return len(context.captured_queries), report

    def test_same_queries_for_10_and_300_devices(self):
        tree = dcim.create_location_tree()
        leaf = dcim.role("leaf")
        dcim.add_interfaces(dcim.create_devices(10, tree["site_a"], leaf), {"Active": 2, "Planned": 1})
        small, report = self.queries(tree["region"])
        self.assertEqual(report.totals.total, 30)
        with CaptureQueriesContext(connection) as context:
            count_interfaces(select_devices(tree["region"]), [], [])
        counting_small = len(context.captured_queries)

        dcim.add_interfaces(dcim.create_devices(290, tree["site_b"], leaf), {"Active": 2, "Planned": 1})
        large, report = self.queries(tree["region"])
        self.assertEqual((len(report.devices), report.totals.total), (300, 900))
        with CaptureQueriesContext(connection) as context:
            count_interfaces(select_devices(tree["region"]), [], [])
        self.assertEqual(len(context.captured_queries), counting_small)
        self.assertEqual(counting_small, 2, "location subtree + one GROUP BY query")
        self.assertEqual(small, large)
        self.assertLessEqual(large, 5)
        # With roles and statuses chosen, no status lookup is needed.
        chosen, _ = self.queries(
            tree["region"],
            roles=[leaf],
            used_statuses=[dcim.status("Active")],
            unused_statuses=[dcim.status("Planned")],
        )
        self.assertLessEqual(chosen, large)


class JobRunTest(TransactionTestCase):
    """The Job in-process (run_job_for_testing): log lines, CSV file, JSON result."""

    def setUp(self):
        super().setUp()
        refresh_jobs()
        self.job = Job.objects.get(module_name=REPORT_JOB[0], job_class_name=REPORT_JOB[1])

    def run_job(self, **job_kwargs):
        job_result = run_job_for_testing(self.job, job_kwargs=job_kwargs)
        job_result.refresh_from_db()
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_SUCCESS, job_result.traceback)
        return job_result

    def messages(self, job_result, level=None):
        entries = JobLogEntry.objects.filter(job_result=job_result).order_by("created")
        if level:
            entries = entries.filter(log_level=level)
        return list(entries.values_list("message", flat=True))

    def test_job_meta_and_grouping(self):
        self.assertEqual(self.job.name, "Interface Utilization Report")
        self.assertEqual(self.job.grouping, "Jobflow")
        self.assertTrue(self.job.enabled)

    def test_full_run_logs_csv_and_result(self):
        data = build_scenario()
        region = data["tree"]["region"]
        job_result = self.run_job(location=str(region.pk))
        messages = self.messages(job_result)
        self.assertIn(f"Interface utilization at {region.name}: Total=26, Used=17 (65%), Unused=9 (35%)", messages)
        table = next(message for message in messages if "| Role | Devices |" in message)
        self.assertIn("| leaf | 4 | 16 | 9 | 7 | 0 | 56% |", table)
        self.assertIn("| spine | 2 | 10 | 8 | 2 | 0 | 80% |", table)
        warnings = self.messages(job_result, "warning")
        self.assertEqual(len(warnings), 1)
        self.assertIn(f"Device {data['empty'].name} ", warnings[0])
        self.assertIn("has no interfaces", warnings[0])

        result = job_result.result
        self.assertEqual(result["totals"]["total"], 26)
        self.assertEqual(result["totals"]["used_percent"], 65)
        self.assertEqual(result["device_count"], 6)
        self.assertEqual({row["role"]: row["used"] for row in result["roles"]}, {"leaf": 9, "spine": 8})
        self.assertEqual(sum(row["total"] for row in result["devices"]), 26)

        files = list(job_result.files.all())
        self.assertEqual(len(files), 1)
        self.assertTrue(files[0].name.endswith(".csv"))
        with files[0].file.open("rb") as handle:
            rows = list(csv.DictReader(io.StringIO(handle.read().decode())))
        self.assertEqual(len(rows), 6)
        by_device = {row["device"]: row for row in rows}
        spine = by_device[data["site_a_spine"].name]
        self.assertEqual(
            (spine["location"], spine["role"], spine["total"], spine["used"], spine["unused"], spine["used_percent"]),
            (data["tree"]["site_a"].name, "spine", "8", "6", "2", "75"),
        )
        self.assertEqual(by_device[data["empty"].name]["total"], "0")

    def test_roles_statuses_and_descendants_inputs(self):
        data = build_scenario()
        region = data["tree"]["region"]
        job_result = self.run_job(
            location=str(region.pk),
            roles=[str(data["leaf"].pk)],
            used_statuses=[str(dcim.status("Active").pk)],
            unused_statuses=[str(dcim.status("Planned").pk)],
        )
        totals_ = job_result.result["totals"]
        # Leaf only: Active 3+3+1 = 7, Planned 2+2+3 = 7, Failed 1+1 = 2 other.
        self.assertEqual((totals_["total"], totals_["used"], totals_["unused"], totals_["other"]), (16, 7, 7, 2))
        self.assertEqual(job_result.result["used_statuses"], ["Active"])

        job_result = self.run_job(location=str(data["tree"]["city"].pk), include_descendants=False)
        self.assertEqual(job_result.result["totals"]["total"], 2)

    def test_location_without_devices_is_a_zero_report(self):
        tree = dcim.create_location_tree()
        job_result = self.run_job(location=str(tree["other_city"].pk), include_descendants=False)
        self.assertEqual(job_result.result["totals"]["total"], 0)
        self.assertEqual(job_result.result["devices"], [])
        name = tree["other_city"].name
        self.assertIn(
            f"Interface utilization at {name}: Total=0, Used=0 (0%), Unused=0 (0%)", self.messages(job_result)
        )
        warnings = self.messages(job_result, "warning")
        self.assertTrue(any("No devices at" in message for message in warnings), warnings)

    def test_warnings_are_capped(self):
        tree = dcim.create_location_tree()
        dcim.create_devices(14, tree["site_a"], dcim.role("leaf"), prefix="bare")
        job_result = self.run_job(location=str(tree["site_a"].pk))
        warnings = self.messages(job_result, "warning")
        self.assertEqual(len(warnings), 11)
        self.assertEqual(sum("has no interfaces." in message for message in warnings), 10)
        self.assertIn("4 more devices have no interfaces (14 in all; see the CSV).", warnings)

    def test_whole_job_query_count_does_not_grow_with_devices(self):
        tree = dcim.create_location_tree()
        leaf = dcim.role("leaf")
        dcim.add_interfaces(dcim.create_devices(10, tree["site_a"], leaf), {"Active": 2, "Planned": 1})

        def job_queries():
            with CaptureQueriesContext(connection) as context:
                job_result = self.run_job(location=str(tree["region"].pk))
            return len(context.captured_queries), job_result

        job_queries()  # warm caches (content types, job class import)
        small, job_result = job_queries()
        self.assertEqual(job_result.result["totals"]["total"], 30)
        dcim.add_interfaces(dcim.create_devices(290, tree["site_b"], leaf), {"Active": 2, "Planned": 1})
        large, job_result = job_queries()
        self.assertEqual(job_result.result["totals"]["total"], 900)
        self.assertEqual(small, large)


class JobFormTest(TestCase):
    """The Job's run form renders with its inputs and validates the way the UI submits them."""

    def test_run_form_renders_and_validates(self):
        self.add_permissions("extras.run_job", "extras.view_job")
        job = Job.objects.get(module_name=REPORT_JOB[0], job_class_name=REPORT_JOB[1])
        response = self.client.get(reverse("extras:job_run", kwargs={"pk": job.pk}))
        self.assertEqual(response.status_code, 200)
        for label in ("Location", "Include sub-locations", "Roles", "Used statuses", "Physical interfaces only"):
            self.assertContains(response, label)
        tree = dcim.create_location_tree()
        form = job.job_class.as_form({"location": str(tree["region"].pk), "include_descendants": "on"})
        self.assertTrue(form.is_valid(), form.errors)
        self.assertFalse(job.job_class.as_form({}).is_valid(), "location is required")
