"""Hook rules in the REST API, GraphQL and the UI: generic cases, permission to save, field errors, the tester,
query counts, and the cost of a change to a model no rule watches."""

import json

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from nautobot.apps.testing import APITestCase, APIViewTestCases, TestCase, ViewTestCases
from nautobot.dcim.models import Device, Location
from nautobot.extras.models import Job, ObjectChange

from nautobot_jobflow.hooks.broker import BROKER
from nautobot_jobflow.models import HookFiring, HookRule
from tests.fixtures import create_superuser, get_test_job
from tests.fixtures_hooks import change, content_type, create_rule, create_test_devices, update_device
from tests.fixtures_workflows import grant

API = "plugins-api:nautobot_jobflow-api:{}"
UI = "plugins:nautobot_jobflow:{}"
HTMX = {"HTTP_HX_REQUEST": "true"}


def api_url(name, **kwargs):
    return reverse(API.format(name), kwargs=kwargs or None)


def ui_url(name, **kwargs):
    return reverse(UI.format(name), kwargs=kwargs or None)


def panel_row(content, label):
    """The HTML of the fields panel row labelled ``label``."""
    start = content.index(f"<td>{label}</td>")
    return content[start : content.index("</tr>", start)]


def create_rules(count, prefix="r"):
    return [create_rule("Echo", name=f"{prefix}-{index}", description="d") for index in range(count)]


class HookRuleAPITest(APIViewTestCases.APIViewTestCase):
    model = HookRule
    choices_fields = ["event_source", "match"]

    @classmethod
    def setUpTestData(cls):
        create_rules(3, prefix="api")
        echo, device = get_test_job("Echo"), content_type("dcim.device").pk
        cls.create_data = [
            {"name": "api-new-1", "job": echo.pk, "content_types": ["dcim.device"], "type_update": True},
            {
                "name": "api-new-2",
                "job": echo.pk,
                "content_types": ["dcim.device"],
                "type_create": True,
                "conditions": [{"path": "status", "op": "eq", "value": "Active"}],
                "input_template": {"message": "{{ object.name }}"},
                "debounce_seconds": 30,
            },
            {
                "name": "api-new-3",
                "job": echo.pk,
                "event_source": "job-completion",
                "completion_statuses": ["failed"],
            },
        ]
        cls.bulk_update_data = {"description": "bulk"}
        cls.device_ct = device

    # CSV import is Nautobot's system Job; list-valued JSON fields (conditions) do not round-trip through CSV cells.
    test_recreate_object_csv = None

    def setUp(self):
        super().setUp()
        grant(self.user, Job, ["run"], name="api-test-run-jobs")  # run only: related Jobs stay brief for the user


class HookRuleAPIBehaviourTest(APITestCase):
    """Field-keyed 400s, permission to save, owner, and the test action."""

    def setUp(self):
        super().setUp()
        grant(self.user, HookRule, ["add", "change", "view"])
        grant(self.user, Job, ["view"])
        self.echo = get_test_job("Echo")

    def post(self, data):
        body = {"name": "x", "job": str(self.echo.pk), "content_types": ["dcim.device"], "type_update": True, **data}
        return self.client.post(api_url("hookrule-list"), body, format="json", **self.header)

    def test_saving_needs_run_permission_on_the_target(self):
        response = self.post({})
        self.assertHttpStatus(response, 400)
        self.assertIn("may not run", str(response.json()["job"]))
        self.assertFalse(HookRule.objects.exists())
        grant(self.user, Job, ["run"])
        response = self.post({})
        self.assertHttpStatus(response, 201)
        self.assertEqual(HookRule.objects.get().owner, self.user)

    def test_bad_input_names_the_field(self):
        grant(self.user, Job, ["run"])
        cases = {
            "conditions": {"conditions": [{"path": "name", "op": "like", "value": "x"}]},
            "object_filter": {"object_filter": {"colour": "red"}},
            "input_template": {"input_template": {"message": "{% if %}"}},
        }
        for field, data in cases.items():
            with self.subTest(field=field):
                response = self.post(data)
                self.assertHttpStatus(response, 400)
                self.assertIn(field, response.json())
        response = self.post({"conditions": [{"path": "hostname", "op": "eq", "value": "x"}]})
        self.assertIn("has no field 'hostname'", str(response.json()["conditions"]))

    def test_test_action_with_recorded_and_posted_changes(self):
        admin = create_superuser("hook-admin")
        (device,) = create_test_devices(1)
        rule = create_rule(
            "Echo",
            conditions=[{"path": "serial", "op": "changed_to", "value": "X1"}],
            input_template={"message": "{{ object.name }}"},
        )
        update_device(device, admin, serial="X1")
        object_change = ObjectChange.objects.filter(changed_object_id=device.pk).latest("time")
        self.add_permissions("extras.view_objectchange")
        test_url = api_url("hookrule-test", pk=rule.pk)
        response = self.client.post(test_url, {"object_change": str(object_change.pk)}, format="json", **self.header)
        self.assertHttpStatus(response, 200)
        verdict = response.json()
        self.assertTrue(verdict["would_fire"], verdict)
        self.assertEqual(verdict["inputs"], {"message": device.name})
        posted = {
            "action": "update",
            "object_type": "dcim.device",
            "before": {"name": "d", "serial": "X1"},
            "after": {"name": "d", "serial": "X2"},
        }
        verdict = self.client.post(test_url, {"change": posted}, format="json", **self.header).json()
        self.assertFalse(verdict["would_fire"])
        self.assertEqual(verdict["problems"], ["Condition failed: serial changed_to 'X1'"])
        response = self.client.post(test_url, {}, format="json", **self.header)
        self.assertHttpStatus(response, 400)
        self.assertEqual(HookFiring.objects.count(), 0, "testing fires nothing")


class HookRuleGraphQLTest(APITestCase):
    def test_rules_and_firings(self):
        self.user.is_superuser = True
        self.user.save()
        rule = create_rule("Echo", name="gql-rule")
        HookFiring.objects.create(rule=rule, status="fired", object_repr="dev-1")
        query = '{ hook_rules(name: "gql-rule") { name job { name } firings { status object_repr } } }'
        response = self.client.post("/api/graphql/", {"query": query}, format="json", **self.header)
        body = response.json()
        self.assertNotIn("errors", body, body)
        self.assertEqual(
            body["data"]["hook_rules"],
            [{"name": "gql-rule", "job": {"name": "Echo"}, "firings": [{"status": "FIRED", "object_repr": "dev-1"}]}],
        )


class HookRuleViewTest(ViewTestCases.PrimaryObjectViewTestCase):
    model = HookRule
    # Generic checks that only apply inside Nautobot core (or to tree models / example_app): not collected here.
    test_list_view_app_banner = None
    test_table_with_indentation_is_removed_on_filter_or_sort = None
    test_model_properties_as_table_columns_are_not_orderable = None
    test_filter_form_fields_are_working = None

    @classmethod
    def setUpTestData(cls):
        create_rules(3, prefix="ui")
        cls.form_data = {
            "name": "ui-new",
            "event_source": "object-change",
            "content_types": [content_type("dcim.device").pk],
            "type_update": True,
            "match": "all",
            "job": get_test_job("Echo").pk,
            "input_template": json.dumps({"message": "{{ object.name }}"}),
            "debounce_seconds": 0,
        }
        cls.update_data = {**cls.form_data, "name": "ui-renamed"}
        cls.bulk_edit_data = {"description": "bulk edited"}

    def setUp(self):
        super().setUp()
        grant(self.user, Job, ["run", "view"], name="ui-test-run-jobs")


class HookRuleFormTest(TestCase):
    """The form refuses a target its author may not run, and bad input lands on the field."""

    def setUp(self):
        super().setUp()
        grant(self.user, HookRule, ["add", "view", "change"])
        grant(self.user, Job, ["view"])
        self.data = {
            "name": "form-rule",
            "event_source": "object-change",
            "content_types": [content_type("dcim.device").pk],
            "type_update": True,
            "match": "all",
            "job": get_test_job("Echo").pk,
            "debounce_seconds": 0,
        }

    def test_author_who_may_not_run_the_job_cannot_save(self):
        response = self.client.post(ui_url("hookrule_add"), self.data)
        self.assertEqual(response.status_code, 200)
        self.assertIn("may not run", response.content.decode())
        self.assertFalse(HookRule.objects.exists())
        grant(self.user, Job, ["run"])
        response = self.client.post(ui_url("hookrule_add"), self.data)
        self.assertEqual(response.status_code, 302, response.content.decode()[:2000])
        self.assertEqual(HookRule.objects.get().owner, self.user)

    def test_field_errors(self):
        grant(self.user, Job, ["run"])
        data = {**self.data, "conditions": json.dumps([{"path": "serial", "op": "regex", "value": "(["}])}
        response = self.client.post(ui_url("hookrule_add"), data)
        self.assertIn("invalid regular expression", response.content.decode())
        data = {**self.data, "object_filter": json.dumps({"colour": "red"})}
        self.assertIn("no filter(s) colour", self.client.post(ui_url("hookrule_add"), data).content.decode())
        self.assertFalse(HookRule.objects.exists())

    def test_detail_and_tester_pages(self):
        self.user.is_superuser = True
        self.user.save()
        rule = create_rule("Echo", name="page-rule")
        HookFiring.objects.create(rule=rule, status="skipped", reason="Loop protection: test", object_repr="dev-9")
        content = self.client.get(rule.get_absolute_url()).content.decode()
        self.assertIn("Recent Firings", content)
        self.assertIn("Loop protection: test", content)
        self.assertIn("Test rule", content)
        posted = {"action": "update", "object_type": "dcim.device", "before": {}, "after": {"name": "d1"}}
        response = self.client.post(ui_url("hookrule_test", pk=rule.pk), {"change": json.dumps(posted)})
        self.assertEqual(response.status_code, 200)
        self.assertIn("Would fire", response.content.decode())

    def test_detail_page_shows_completion_targets_as_links(self):
        # Core's fields panel printed many-to-many managers as "extras.Job.None" and the states as a JSON list.
        self.user.is_superuser = True
        self.user.save()
        echo = get_test_job("Echo")
        completion = create_rule(
            "Echo", content_types=(), actions=(), event_source="job-completion", completion_statuses=["failed"]
        )
        completion.completion_jobs.set([echo])
        content = self.client.get(completion.get_absolute_url()).content.decode()
        self.assertIn(f'<a href="{echo.get_absolute_url()}">{echo.name}</a>', panel_row(content, "Completion Jobs"))
        self.assertIn("Failed", panel_row(content, "Completion Statuses"))
        self.assertNotIn("[", panel_row(content, "Completion Statuses"))
        object_change = create_rule("Echo", name="object-change-rule")
        content = self.client.get(object_change.get_absolute_url()).content.decode()
        for label in ("Completion Jobs", "Completion Workflows", "Completion Statuses"):
            self.assertIn("&mdash;", panel_row(content, label), label)


class HookQueryCountTest(TestCase):
    """Lists cost the same for 5 and 50 rules; a change to an unwatched model costs no extra query."""

    def setUp(self):
        super().setUp()
        self.user.is_superuser = True
        self.user.save()

    def count(self, target, **headers):
        self.client.get(target, **headers)
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(target, **headers)
        self.assertEqual(response.status_code, 200)
        return len(queries)

    def test_rule_list_ui_and_api(self):
        from nautobot.users.models import Token

        token = Token.objects.create(user=self.user)
        api = {"HTTP_AUTHORIZATION": f"Token {token.key}", "HTTP_ACCEPT": "application/json"}
        create_rules(5, prefix="a")
        ui_5 = self.count(ui_url("hookrule_list") + "?per_page=100", **HTMX)
        api_5 = self.count(api_url("hookrule-list") + "?limit=100", **api)
        create_rules(45, prefix="b")
        self.assertEqual(self.count(ui_url("hookrule_list") + "?per_page=100", **HTMX), ui_5)
        self.assertEqual(self.count(api_url("hookrule-list") + "?limit=100", **api), api_5)

    def test_change_to_unwatched_model_costs_no_extra_query(self):
        admin = create_superuser("qc-admin")
        (device,) = create_test_devices(1)
        location = device.location

        def save_location(text):
            def apply():
                obj = Location.objects.get(pk=location.pk)
                obj.description = text
                obj.validated_save()

            with CaptureQueriesContext(connection) as queries:
                change(admin, apply)
            return len(queries)

        save_location("warm-up")
        without_rules = save_location("no rules")
        create_rules(20, prefix="dev")  # all watch dcim.device updates
        save_location("rules reloaded once after a rule change")
        self.assertEqual(save_location("rules on devices only"), without_rules)
        self.assertIn("nautobot.update.dcim.device", BROKER.include_topics)
        self.assertNotIn("nautobot.update.dcim.location", BROKER.include_topics)
        self.assertTrue(Device.objects.filter(pk=device.pk).exists())


class HookNavigationTest(TestCase):
    def test_hook_rules_join_the_jobflow_tab(self):
        from nautobot.extras.registry import registry

        tab = registry["nav_menu"]["tabs"]["Jobflow"]
        items = {item for group in tab["groups"].values() for item in group["items"]}
        self.assertIn(ui_url("hookrule_list"), items)
        self.assertIn(reverse("plugins:nautobot_jobflow:home"), items, "the workflow entries are still there")
        self.assertIn("Hook Rules", tab["groups"])
