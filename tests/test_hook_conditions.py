"""Every condition operator on a real create, update and delete of a device (snapshots as Nautobot records them),
any/all, the rule tester's verdicts, and save-time validation of rules (field errors, never failures at run time)."""

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from nautobot.apps.testing import TestCase
from nautobot.dcim.models import Device
from nautobot.extras.models import CustomField, ObjectChange, Status, Tag

from nautobot_jobflow.choices import HookEventSourceChoices
from nautobot_jobflow.hooks.tester import change_from_body, change_from_object_change, run_test
from nautobot_jobflow.models import HookRule
from nautobot_jobflow.models.hook_rule_checks import validate_for_content_types
from tests.fixtures import create_superuser, get_test_job
from tests.fixtures_dcim import create_location_tree, device_type, role, status
from tests.fixtures_hooks import change, content_type, create_test_devices, update_device

CREATE, UPDATE, DELETE = "create", "update", "delete"

# (condition, fires on create, on update, on delete). The device is created as leaf-01 (Active, serial "", tag
# core, port_count 48), updated to serial SN-9, Planned, tags core+edge, port_count 52, then deleted.
OPERATOR_CASES = [
    ({"path": "status", "op": "eq", "value": "Active"}, True, False, False),
    ({"path": "status.name", "op": "eq", "value": "Planned"}, False, True, True),
    ({"path": "name", "op": "=", "value": "leaf-01"}, True, True, True),
    ({"path": "status", "op": "neq", "value": "Active"}, False, True, True),
    ({"path": "status", "op": "in", "value": ["Planned", "Staged"]}, False, True, True),
    ({"path": "tags", "op": "in", "value": ["edge", "dmz"]}, False, True, True),
    ({"path": "name", "op": "contains", "value": "af-0"}, True, True, True),
    ({"path": "tags", "op": "contains", "value": "edge"}, False, True, True),
    ({"path": "name", "op": "startswith", "value": "leaf"}, True, True, True),
    ({"path": "name", "op": "endswith", "value": "-02"}, False, False, False),
    ({"path": "serial", "op": "regex", "value": r"^SN-\d$"}, False, True, True),
    ({"path": "custom_fields.port_count", "op": "gt", "value": 50}, False, True, True),
    ({"path": "custom_fields.port_count", "op": "gte", "value": "48"}, True, True, True),
    ({"path": "custom_fields.port_count", "op": "lt", "value": 50}, True, False, False),
    ({"path": "custom_fields.port_count", "op": "lte", "value": 52}, True, True, True),
    ({"path": "platform", "op": "is_null", "value": True}, True, True, True),
    ({"path": "status", "op": "is_null", "value": False}, True, True, True),
    ({"path": "serial", "op": "is_null"}, False, False, False),  # "" is a value, not null
    ({"path": "serial", "op": "changed"}, False, True, False),
    ({"path": "name", "op": "changed"}, False, False, False),
    ({"path": "status", "op": "changed_from", "value": "Active"}, False, True, False),
    ({"path": "status", "op": "changed_from", "value": "Planned"}, False, False, False),
    ({"path": "status.name", "op": "changed_to", "value": "Planned"}, False, True, False),
    ({"path": "custom_fields.port_count", "op": "changed_to", "value": 52}, False, True, False),
    ({"path": "tags", "op": "eq", "value": ["edge", "core"]}, False, True, True),
    ({"path": "status", "op": "eq", "value": "Active", "negate": True}, False, True, True),
]


def rule_with(conditions, match="all", **fields):
    """An unsaved rule watching every action (the tester does not need it saved)."""
    return HookRule(
        name="t",
        conditions=conditions,
        match=match,
        type_create=True,
        type_update=True,
        type_delete=True,
        job=get_test_job("Echo"),
        **fields,
    )


class DeviceChangesMixin:
    @classmethod
    def setUpTestData(cls):
        cls.admin = create_superuser()
        tree = create_location_tree(prefix="cond")
        device_ct = ContentType.objects.get_for_model(Device)
        field = CustomField.objects.create(key="port_count", label="Port count", type="integer")
        field.content_types.add(device_ct)
        core, edge = Tag.objects.create(name="core"), Tag.objects.create(name="edge")
        for tag in (core, edge):
            tag.content_types.add(device_ct)
        active = status("Active", ("dcim.device",))
        planned = status("Planned", ("dcim.device",))

        def create():
            device = Device(name="leaf-01", device_type=device_type(), role=role("leaf"), location=tree["site_a"])
            device.status = active
            device._custom_field_data = {"port_count": 48}
            device.validated_save()
            device.tags.set([core])
            return device

        device = change(cls.admin, create)

        def update():
            obj = Device.objects.get(pk=device.pk)
            obj.serial, obj.status = "SN-9", planned
            obj._custom_field_data = {"port_count": 52}
            obj.validated_save()
            obj.tags.add(edge)

        change(cls.admin, update)
        change(cls.admin, lambda: Device.objects.get(pk=device.pk).delete())
        changes = ObjectChange.objects.filter(changed_object_id=device.pk).order_by("time")
        cls.changes = {oc.action: change_from_object_change(oc) for oc in changes}
        assert set(cls.changes) == {CREATE, UPDATE, DELETE}, cls.changes
        assert Status.objects.filter(name="Planned").exists()


class OperatorTest(DeviceChangesMixin, TestCase):
    """Each operator against the snapshots Nautobot recorded, as dispatch and the tester evaluate them."""

    def test_every_operator_on_create_update_and_delete(self):
        for condition, *expected in OPERATOR_CASES:
            for action, want in zip((CREATE, UPDATE, DELETE), expected, strict=True):
                with self.subTest(condition=condition, action=action):
                    verdict = run_test(rule_with([condition]), self.changes[action])
                    self.assertEqual(verdict["would_fire"], want, verdict)
                    self.assertEqual(verdict["conditions"][0]["passed"], want)

    def test_delete_evaluates_the_pre_change_snapshot(self):
        verdict = run_test(rule_with([{"path": "serial", "op": "eq", "value": "SN-9"}]), self.changes[DELETE])
        self.assertTrue(verdict["would_fire"], verdict)
        self.assertEqual(verdict["conditions"][0]["actual"], "SN-9")
        self.assertIsNone(self.changes[DELETE]["after"])

    def test_changed_shows_both_sides(self):
        verdict = run_test(rule_with([{"path": "status", "op": "changed"}]), self.changes[UPDATE])
        self.assertEqual(verdict["conditions"][0]["actual"], {"before": "Active", "after": "Planned"})

    def test_all_and_any(self):
        both = [{"path": "status", "op": "eq", "value": "Planned"}, {"path": "serial", "op": "changed"}]
        self.assertTrue(run_test(rule_with(both), self.changes[UPDATE])["would_fire"])
        verdict = run_test(rule_with(both), self.changes[DELETE])
        self.assertFalse(verdict["would_fire"])
        self.assertEqual(verdict["problems"], ["Condition failed: serial changed"])
        self.assertTrue(run_test(rule_with(both, match="any"), self.changes[DELETE])["would_fire"])
        self.assertFalse(run_test(rule_with(both, match="any"), self.changes[CREATE])["would_fire"])
        self.assertTrue(run_test(rule_with([]), self.changes[CREATE])["would_fire"], "no conditions: always")

    def test_update_without_an_earlier_record_says_the_state_before_is_unknown(self):
        """A bulk-created device's first logged change is an update with no prechange snapshot to compare with."""
        bulk_created = create_test_devices(1, prefix="tst")[0]  # bulk_create: no change logged
        update_device(bulk_created, self.admin, serial="SN-NEW")
        record = ObjectChange.objects.get(changed_object_id=bulk_created.pk)
        change = change_from_object_change(record)
        self.assertTrue(change["before_unknown"])
        rule = rule_with([{"path": "serial", "op": "changed"}], input_template={"was": "{{ change.before.serial }}"})
        verdict = run_test(rule, change)
        self.assertEqual(verdict["conditions"][0]["actual"], {"before": None, "after": "SN-NEW"})
        self.assertEqual(len(verdict["notes"]), 1, verdict)
        self.assertIn("The state before this update is unknown", verdict["notes"][0])
        self.assertIn("changelog retention", verdict["notes"][0])
        # The template reading change.before fails here; the note says why the live change may differ.
        self.assertFalse(verdict["would_fire"])
        self.assertTrue(verdict["problems"][0].startswith("Input template:"), verdict["problems"])
        self.assertTrue(run_test(rule_with([{"path": "serial", "op": "changed"}]), change)["would_fire"])
        self.assertEqual(run_test(rule_with([]), self.changes[UPDATE])["notes"], [])
        self.assertFalse(self.changes[UPDATE]["before_unknown"], "an update after a logged create knows its before")
        self.assertTrue(run_test(rule_with([]), self.changes[UPDATE])["would_fire"])

    def test_tester_renders_inputs_and_reports_template_errors(self):
        rule = rule_with([], input_template={"message": "{{ object.name }}: {{ change.before.status.name }}"})
        verdict = run_test(rule, self.changes[UPDATE])
        self.assertEqual(verdict["inputs"], {"message": "leaf-01: Active"})
        rule.input_template = {"message": "{{ object.nope.deeper }}"}
        verdict = run_test(rule, self.changes[UPDATE])
        self.assertFalse(verdict["would_fire"])
        self.assertIn("undefined", verdict["problems"][0])

    def test_tester_takes_a_posted_change(self):
        posted = change_from_body(
            {"action": "update", "object_type": "dcim.device", "before": {"serial": "a"}, "after": {"serial": "b"}}
        )
        verdict = run_test(rule_with([{"path": "serial", "op": "changed_to", "value": "b"}]), posted)
        self.assertTrue(verdict["would_fire"], verdict)
        with self.assertRaises(ValidationError) as raised:
            change_from_body({"action": "rename", "object_type": "dcim.device"})
        self.assertIn("change", raised.exception.message_dict)

    def test_tester_reports_unwatched_action(self):
        rule = rule_with([])
        rule.type_delete = False
        verdict = run_test(rule, self.changes[DELETE])
        self.assertEqual(verdict["problems"], ["The rule does not watch delete changes."])


class RuleValidationTest(TestCase):
    """Bad input is refused on save with a message on the field that holds it."""

    @classmethod
    def setUpTestData(cls):
        cls.echo = get_test_job("Echo")
        cls.devices = [content_type("dcim.device")]
        status("Active", ("dcim.device",))
        field = CustomField.objects.create(key="port_count", label="Port count", type="integer")
        field.content_types.add(cls.devices[0])

    def assertFieldError(self, field, fragment, content_types=None, **rule_fields):
        rule = HookRule(name="bad", **{"type_update": True, "job": self.echo, **rule_fields})
        with self.assertRaises(ValidationError) as raised:
            rule.full_clean()
            validate_for_content_types(rule, self.devices if content_types is None else content_types)
        errors = raised.exception.message_dict
        self.assertIn(field, errors, errors)
        self.assertIn(fragment, " ".join(errors[field]))

    def test_good_rule_passes(self):
        rule = HookRule(
            name="good",
            type_update=True,
            job=self.echo,
            conditions=[
                {"path": "status.name", "op": "changed_to", "value": "Active"},
                {"path": "custom_fields.port_count", "op": "gt", "value": 4},
                {"path": "location.parent.id", "op": "is_null", "value": False},
                {"path": "tags", "op": "contains", "value": "core"},
            ],
            object_filter={"status": ["Active"], "name__ic": "leaf"},
            input_template={"message": "{{ object.name }} {{ change.action }}"},
        )
        rule.full_clean()
        validate_for_content_types(rule, self.devices)

    def test_invalid_operator(self):
        self.assertFieldError("conditions", "unknown operator 'like'", conditions=[{"path": "name", "op": "like"}])

    def test_unknown_attribute_paths(self):
        self.assertFieldError("conditions", "has no field 'hostname'", conditions=[{"path": "hostname", "op": "eq"}])
        self.assertFieldError(
            "conditions", "has no field 'colour'", conditions=[{"path": "status.colour", "op": "eq", "value": "x"}]
        )
        self.assertFieldError(
            "conditions", "too deep", conditions=[{"path": "location.parent.name", "op": "eq", "value": "x"}]
        )
        self.assertFieldError(
            "conditions", "no custom field 'owner'", conditions=[{"path": "custom_fields.owner", "op": "changed"}]
        )
        self.assertFieldError("conditions", "plain value", conditions=[{"path": "serial.x", "op": "changed"}])

    def test_invalid_regex_and_values(self):
        self.assertFieldError(
            "conditions", "invalid regular expression", conditions=[{"path": "name", "op": "regex", "value": "(a"}]
        )
        self.assertFieldError("conditions", "non-empty list", conditions=[{"path": "name", "op": "in", "value": "a"}])
        self.assertFieldError("conditions", "unknown key(s) field", conditions=[{"field": "name", "op": "eq"}])

    def test_object_filter_with_unknown_field(self):
        self.assertFieldError("object_filter", "no filter(s) colour", object_filter={"colour": "red"})

    def test_object_filter_with_invalid_value(self):
        self.assertFieldError("object_filter", "filter", object_filter={"status": ["No Such Status"]})

    def test_template_errors(self):
        self.assertFieldError("input_template", "syntax error", input_template={"message": "{{ object.name "})
        self.assertFieldError("input_template", "uses objects", input_template={"message": "{{ objects }}"})
        self.assertFieldError("input_template", "has no input(s) colour", input_template={"colour": "red"})

    def test_target_and_source_rules(self):
        self.assertFieldError("job", "exactly one target", job=None)
        self.assertFieldError("job", "sensitive variables", job=get_test_job("Secretive"))
        self.assertFieldError("debounce_seconds", "set one", batch=True)
        self.assertFieldError("type_create", "at least one action", type_update=False)
        self.assertFieldError("content_types", "at least one object type", content_types=[])
        self.assertFieldError(
            "completion_statuses",
            "final states",
            event_source=HookEventSourceChoices.JOB_COMPLETION,
            completion_statuses=["exploded"],
            content_types=[],
        )
        self.assertFieldError(
            "conditions",
            "not part of a completion",
            event_source=HookEventSourceChoices.JOB_COMPLETION,
            conditions=[{"path": "name", "op": "eq", "value": "x"}],
            content_types=[],
        )
