"""The launch service refuses what it must: permissions on every Job a workflow would start, inputs, state."""

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from nautobot.apps.testing import TestCase
from nautobot.extras.models import Job, JobResult
from nautobot.users.models import ObjectPermission

from nautobot_jobflow.choices import LaunchOriginChoices
from nautobot_jobflow.launching.job_kwargs import validate_job_data
from nautobot_jobflow.lib.errors import LaunchForbidden, LaunchRefused
from nautobot_jobflow.models import WorkflowRun
from nautobot_jobflow.service import launch
from tests.fixtures import get_test_job, refresh_jobs
from tests.fixtures_engine import build_workflow


def allow_run(user, *jobs):
    """Give ``user`` the run permission on exactly these Jobs."""
    permission = ObjectPermission.objects.create(
        name=f"run {user.username} {len(jobs)}", actions=["run"], constraints={"pk__in": [str(job.pk) for job in jobs]}
    )
    permission.object_types.add(ContentType.objects.get_for_model(Job))
    permission.users.add(user)


class LaunchPermissionTest(TestCase):
    """A user must be allowed to run every Job of a workflow, nested workflows included."""

    @classmethod
    def setUpTestData(cls):
        refresh_jobs()

    def setUp(self):
        super().setUp()
        allow_run(self.user, get_test_job("Echo"))

    def test_user_who_cannot_run_one_job_cannot_launch(self):
        workflow = build_workflow({"a": "Echo", "b": "Fail"}, [("a", "b")])
        with self.assertRaises(LaunchForbidden) as forbidden:
            launch(workflow, {}, self.user, LaunchOriginChoices.UI)
        self.assertIn("Fail", str(forbidden.exception))
        self.assertFalse(WorkflowRun.objects.exists())

    def test_nested_workflow_jobs_are_checked(self):
        child = build_workflow({"inner": "Fail"})
        parent = build_workflow({"a": "Echo", "sub": {"job": child}}, [("a", "sub")])
        with self.assertRaises(LaunchForbidden):
            launch(parent, {}, self.user, LaunchOriginChoices.API)
        self.assertFalse(WorkflowRun.objects.exists())

    def test_allowed_user_launches(self):
        workflow = build_workflow({"a": "Echo"})
        run = launch(workflow, {}, self.user, LaunchOriginChoices.UI).run
        self.assertEqual(run.user, self.user)
        self.assertEqual(run.definition["steps"]["a"]["job_name"], "Echo")

    def test_job_target_needs_permission(self):
        with self.assertRaises(LaunchForbidden):
            launch(get_test_job("Fail"), {}, self.user, LaunchOriginChoices.API)
        self.assertFalse(JobResult.objects.exists())

    def test_anonymous_user_is_refused(self):
        from django.contrib.auth.models import AnonymousUser

        with self.assertRaises(LaunchForbidden):
            launch(build_workflow({"a": "Echo"}), {}, AnonymousUser(), LaunchOriginChoices.API)


class LaunchInputTest(TestCase):
    """Inputs are validated against the workflow's schema (or the Job's form) before anything starts."""

    @classmethod
    def setUpTestData(cls):
        refresh_jobs()

    def setUp(self):
        super().setUp()
        self.user.is_superuser = True
        self.user.save()

    def test_schema_violation_names_the_field(self):
        workflow = build_workflow(
            {"a": "Echo"},
            input_schema={"type": "object", "properties": {"site": {"type": "string"}}, "required": ["site"]},
        )
        with self.assertRaises(LaunchRefused) as refused:
            launch(workflow, {"site": 5}, self.user, LaunchOriginChoices.API)
        self.assertIn("site", refused.exception.message_dict["inputs"][0])
        with self.assertRaises(LaunchRefused) as refused:
            launch(workflow, {}, self.user, LaunchOriginChoices.API)
        self.assertIn("'site' is a required property", refused.exception.message_dict["inputs"][0])
        self.assertFalse(WorkflowRun.objects.exists())

    def test_defaults_fill_missing_inputs(self):
        workflow = build_workflow(
            {"a": "Echo"},
            input_schema={"type": "object", "properties": {"site": {"type": "string"}}, "required": ["site"]},
            default_inputs={"site": "AMS"},
        )
        run = launch(workflow, {}, self.user, LaunchOriginChoices.API).run
        self.assertEqual(run.inputs, {"site": "AMS"})

    def test_disabled_and_empty_workflows_are_refused(self):
        disabled = build_workflow({"a": "Echo"}, enabled=False)
        with self.assertRaises(LaunchRefused) as refused:
            launch(disabled, {}, self.user, LaunchOriginChoices.UI)
        self.assertIn("disabled", refused.exception.message_dict["workflow"][0])
        empty = build_workflow({})
        with self.assertRaises(LaunchRefused) as refused:
            launch(empty, {}, self.user, LaunchOriginChoices.UI)
        self.assertIn("no steps", refused.exception.message_dict["workflow"][0])

    def test_non_object_inputs_refused(self):
        with self.assertRaises(LaunchRefused):
            launch(build_workflow({"a": "Echo"}), ["not", "a", "dict"], self.user, LaunchOriginChoices.API)

    def test_job_inputs_validated_by_the_jobs_form(self):
        with self.assertRaises(LaunchRefused) as refused:
            launch(get_test_job("Echo"), {"number": "many"}, self.user, LaunchOriginChoices.API)
        self.assertIn("number", refused.exception.message_dict)
        with self.assertRaises(LaunchRefused) as refused:
            launch(get_test_job("Echo"), {"colour": "red"}, self.user, LaunchOriginChoices.API)
        self.assertIn("colour", refused.exception.message_dict)

    def test_job_dry_run_requires_support(self):
        with self.assertRaises(LaunchRefused) as refused:
            launch(get_test_job("Noop"), {}, self.user, LaunchOriginChoices.API, dryrun=True)
        self.assertIn("dry run", refused.exception.message_dict["dryrun"][0])


class ValidateJobDataTest(TestCase):
    """launch.validate_job_data decides exactly as the Job's validate_data, without its Job lookup."""

    @classmethod
    def setUpTestData(cls):
        refresh_jobs()

    @staticmethod
    def comparable(cleaned):
        """Cleaned data with querysets and model instances as their primary keys (two querysets never compare equal)."""
        from django.db.models import Model, QuerySet

        def plain(value):
            if isinstance(value, QuerySet):
                return sorted(str(pk) for pk in value.values_list("pk", flat=True))
            return str(value.pk) if isinstance(value, Model) else value

        return {name: plain(value) for name, value in cleaned.items()}

    def outcome(self, validate, data):
        try:
            return "valid", self.comparable(validate(data))
        except ValidationError as error:
            return "invalid", error.message_dict if hasattr(error, "error_dict") else error.messages
        except ObjectDoesNotExist as error:  # deserialize_data's answer to an unknown object (launch reports it)
            return "invalid", f"{type(error).__name__}: {error}"

    def assert_same(self, job_class, data):
        ours = self.outcome(lambda data: validate_job_data(job_class, data), data)
        nautobot = self.outcome(job_class.validate_data, data)
        self.assertEqual(ours, nautobot, f"{job_class.__name__} {data!r}")
        return ours[0]

    def test_same_answers_as_nautobot(self):
        from nautobot_jobflow.models import Workflow
        from tests.fixtures_dcim import create_location_tree, role

        site = create_location_tree(prefix="vjd")["site_a"]
        leaf = role("leaf")
        workflow = build_workflow({"a": "Noop"})
        report = "InterfaceUtilizationReport"  # ObjectVar, MultiObjectVar and BooleanVar
        cases = [
            ("Echo", {}, "valid"),
            ("Echo", {"message": "hi", "number": "7"}, "valid"),
            ("Echo", {"number": "many"}, "invalid"),
            ("Echo", {"colour": "red"}, "invalid"),
            ("Flaky", {"failures": 2}, "invalid"),  # key is required
            ("DryRunAware", {"dryrun": True, "note": "x"}, "valid"),
            ("CollectObjects", {"objects": {"a": [1, 2]}}, "valid"),
            ("CollectObjects", {"objects": "{not json"}, "invalid"),
            ("RunWorkflow", {"workflow": str(workflow.pk), "inputs": {}}, "valid"),
            ("RunWorkflow", {"workflow": "not-a-uuid"}, "invalid"),
            ("RunWorkflow", {}, "invalid"),
            (report, {"location": str(site.pk), "roles": [str(leaf.pk)], "physical_only": True}, "valid"),
            (report, {"location": str(site.pk), "roles": [str(workflow.pk)]}, "invalid"),  # not a role
            (report, {"roles": [str(leaf.pk)]}, "invalid"),  # location is required
        ]
        for class_name, data, expected in cases:
            with self.subTest(job=class_name, data=data):
                job = Job.objects.get(job_class_name=class_name)
                self.assertEqual(self.assert_same(job.job_class, data), expected)
        self.assertTrue(Workflow.objects.filter(pk=workflow.pk).exists())

    def test_no_job_lookup(self):
        job_class = get_test_job("Echo").job_class
        with self.assertNumQueries(1):  # Nautobot's as_form looks the Job up
            job_class.validate_data({"message": "hi"})
        with self.assertNumQueries(0):
            self.assertEqual(validate_job_data(job_class, {"message": "hi"})["message"], "hi")

    def test_a_job_overriding_validation_keeps_its_override(self):
        base = get_test_job("Echo").job_class

        class Strict(base):
            @classmethod
            def validate_data(cls, data, files=None):
                raise ValidationError({"message": "always refused"})

        class CustomForm(base):
            @classmethod
            def as_form(cls, data=None, files=None, initial=None, approval_view=False):
                form = super().as_form(data=data, files=files, initial=initial, approval_view=approval_view)
                form.fields["message"].required = True
                return form

        with self.assertRaises(ValidationError) as refused:
            validate_job_data(Strict, {"message": "hi"})
        self.assertEqual(refused.exception.message_dict, {"message": ["always refused"]})
        with self.assertRaises(ValidationError) as refused:
            validate_job_data(CustomForm, {})
        self.assertIn("message", refused.exception.message_dict)
        self.assertEqual(validate_job_data(base, {})["message"], "")
