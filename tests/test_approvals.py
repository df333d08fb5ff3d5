"""Approval policies: validation, matching, the gate in launch(), decisions through core's models and APIs."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from nautobot.apps.testing import TestCase
from nautobot.dcim.models import Device
from nautobot.extras.choices import ApprovalWorkflowStateChoices
from nautobot.extras.models import ApprovalWorkflowStage, JobResult, Tag
from nautobot.users.models import Token

from nautobot_jobflow.approvals.decisions import ApprovalRefused, cancel_request, decide, expire_due
from nautobot_jobflow.choices import (
    ApprovalEventKindChoices,
    LaunchOriginChoices,
    LaunchRequestStatusChoices,
    PolicyTargetChoices,
    WorkflowRunStatusChoices,
)
from nautobot_jobflow.lib.errors import LaunchRefused
from nautobot_jobflow.models import ApprovalPolicy, LaunchRequest, WorkflowRun
from nautobot_jobflow.service import launch
from tests import fixtures_dcim
from tests.fixtures import get_test_job, refresh_jobs
from tests.fixtures_approvals import make_definition, make_group, make_policy, make_user
from tests.fixtures_engine import build_workflow

REQUEST_STATUS = LaunchRequestStatusChoices
CORE_STATE = ApprovalWorkflowStateChoices


def real_runs(job):
    """JobResults of ``job`` that are not approval previews."""
    previews = LaunchRequest.objects.exclude(preview_job_result=None).values_list("preview_job_result", flat=True)
    return JobResult.objects.filter(job_model=job).exclude(pk__in=list(previews))


class ApprovalTestBase(TestCase):
    """A requester, three approvers in group A (2 needed), one in group B (1 needed), an outsider superuser."""

    def api(self, method, user, url, body=None):
        """A REST call authenticated by ``user``'s token alone (no session)."""
        self.client.logout()
        token = Token.objects.create(user=user)
        call = getattr(self.client, method)
        if method == "get":
            return call(url, HTTP_AUTHORIZATION=f"Token {token.key}")
        return call(url, body or {}, content_type="application/json", HTTP_AUTHORIZATION=f"Token {token.key}")

    @classmethod
    def setUpTestData(cls):
        refresh_jobs()

    def setUp(self):
        super().setUp()
        self.echo = get_test_job("Echo")
        self.dryrun_job = get_test_job("DryRunAware")
        self.requester = make_user("requester")
        self.a1, self.a2, self.a3 = (make_user(f"approver{i}") for i in (1, 2, 3))
        self.b1 = make_user("boss")
        self.outsider = make_user("outsider", superuser=True)
        self.group_a = make_group("approvers-a", self.a1, self.a2, self.a3)
        self.group_b = make_group("approvers-b", self.b1)
        self.two_stages = make_definition((self.group_a, 2), (self.group_b, 1))

    def hold_job(self, job=None, **policy_fields):
        job = job or self.echo
        make_policy(self.two_stages, jobs=[job], applies_to=PolicyTargetChoices.JOBS, **policy_fields)
        outcome = launch(job, {"message": "hi"} if job == self.echo else {}, self.requester, LaunchOriginChoices.API)
        self.assertTrue(outcome.approval_required)
        self.assertIsNone(outcome.job_result)
        return outcome.request


class PolicyValidationTest(ApprovalTestBase):
    """Bad policies are refused with errors that name the field."""

    def assert_field_error(self, field, text, **fields):
        policy = ApprovalPolicy(name="bad", approval_workflow_definition=fields.pop("definition", self.two_stages))
        for name, value in fields.items():
            setattr(policy, name, value)
        with self.assertRaises(ValidationError) as raised:
            policy.full_clean()
        self.assertIn(field, raised.exception.message_dict)
        self.assertIn(text, " ".join(raised.exception.message_dict[field]))

    def test_no_stages(self):
        self.assert_field_error("approval_workflow_definition", "has no stages", definition=make_definition())

    def test_min_approvers_above_group_size(self):
        definition = make_definition((self.group_b, 2))
        self.assert_field_error(
            "approval_workflow_definition", "needs 2 approvers but group 'approvers-b' has 1", definition=definition
        )

    def test_expiry_must_be_positive(self):
        self.assert_field_error("expiry_minutes", "between 1 and", expiry_minutes=0)
        self.assert_field_error("expiry_minutes", "between 1 and", expiry_minutes=-5)

    def test_definition_for_another_model(self):
        from django.contrib.contenttypes.models import ContentType
        from nautobot.extras.models import ApprovalWorkflowDefinition, ScheduledJob

        other = ApprovalWorkflowDefinition.objects.create(
            name="sched", model_content_type=ContentType.objects.get_for_model(ScheduledJob), weight=999
        )
        self.assert_field_error("approval_workflow_definition", "launch request", definition=other)

    def test_bad_origins_and_filters(self):
        from django.contrib.contenttypes.models import ContentType

        self.assert_field_error("origins", "Origins must be a list of", origins=["telnet"])
        device_type = ContentType.objects.get_for_model(Device)
        self.assert_field_error(
            "object_filter", "Unknown filter(s) for DCIM | device: colour", object_content_type=device_type,
            object_filter={"colour": ["red"]},
        )  # fmt: skip
        self.assert_field_error("object_filter", "Set an object type", object_filter={"name": ["x"]})
        self.assert_field_error("min_objects", "Set an object type", min_objects=3)

    def test_api_names_the_field(self):
        response = self.api(
            "post",
            self.outsider,
            reverse("plugins-api:nautobot_jobflow-api:approvalpolicy-list"),
            {"name": "p", "approval_workflow_definition": str(make_definition().pk), "expiry_minutes": 0},
        )
        self.assertEqual(response.status_code, 400, response.content)
        self.assertIn("between 1 and", " ".join(response.json()["expiry_minutes"]))

    def test_form_names_the_field(self):
        from nautobot_jobflow.forms import ApprovalPolicyForm

        form = ApprovalPolicyForm(
            data={
                "name": "p",
                "weight": 10,
                "applies_to": "all",
                "approval_workflow_definition": str(make_definition((self.group_b, 5)).pk),
                "expiry_minutes": 30,
                "object_filter": "{}",
            }
        )
        self.assertFalse(form.is_valid())
        self.assertIn("needs 5 approvers", " ".join(form.errors["approval_workflow_definition"]))


class PolicyMatchingTest(ApprovalTestBase):
    """Which launches a policy covers."""

    def test_origin_dryrun_and_target(self):
        policy = make_policy(self.two_stages, jobs=[self.echo], origins=["api", "hook"])
        self.assertEqual(ApprovalPolicy.objects.find_for_launch(self.echo, {}, "api", False), policy)
        self.assertIsNone(ApprovalPolicy.objects.find_for_launch(self.echo, {}, "ui", False))
        self.assertIsNone(
            ApprovalPolicy.objects.find_for_launch(self.echo, {}, "api", True), "dry runs are exempt by default"
        )
        self.assertIsNone(ApprovalPolicy.objects.find_for_launch(get_test_job("Noop"), {}, "api", False))
        policy.dryrun_exempt = False
        policy.save()
        self.assertEqual(ApprovalPolicy.objects.find_for_launch(self.echo, {}, "api", True), policy)

    def test_applies_to_and_weight(self):
        workflow = build_workflow({"a": "Echo"})
        jobs_only = make_policy(self.two_stages, applies_to=PolicyTargetChoices.JOBS, weight=10)
        self.assertIsNone(ApprovalPolicy.objects.find_for_launch(workflow, {}, "ui", False))
        self.assertEqual(ApprovalPolicy.objects.find_for_launch(self.echo, {}, "ui", False), jobs_only)
        heavier = make_policy(make_definition((self.group_b, 1)), weight=50)
        self.assertEqual(ApprovalPolicy.objects.find_for_launch(self.echo, {}, "ui", False), heavier)
        self.assertEqual(ApprovalPolicy.objects.find_for_launch(workflow, {}, "ui", False), heavier)
        heavier.enabled = False
        heavier.save()
        self.assertEqual(ApprovalPolicy.objects.find_for_launch(self.echo, {}, "ui", False), jobs_only)

    def test_objects_in_inputs(self):
        from django.contrib.contenttypes.models import ContentType

        tree = fixtures_dcim.create_location_tree("AP")
        role = fixtures_dcim.role("ap-role")
        inside = fixtures_dcim.create_devices(3, tree["site_a"], role, prefix="in")
        outside = fixtures_dcim.create_devices(1, tree["other_site"], role, prefix="out")
        core = Tag.objects.create(name="core")
        core.content_types.add(ContentType.objects.get_for_model(Device))
        outside[0].tags.add(core)
        device_type = ContentType.objects.get_for_model(Device)
        workflow = build_workflow({"a": "Echo"})
        at_region = make_policy(
            self.two_stages, object_content_type=device_type, object_filter={"location": [str(tree["region"].pk)]}
        )
        self.assertEqual(
            ApprovalPolicy.objects.find_for_launch(workflow, {"device": str(inside[0].pk)}, "ui", False), at_region
        )
        self.assertIsNone(ApprovalPolicy.objects.find_for_launch(workflow, {"device": str(outside[0].pk)}, "ui", False))
        self.assertIsNone(ApprovalPolicy.objects.find_for_launch(workflow, {"device": "not-a-uuid"}, "ui", False))
        at_region.delete()
        tagged = make_policy(self.two_stages, object_content_type=device_type, object_filter={"tags": ["core"]})
        self.assertEqual(
            ApprovalPolicy.objects.find_for_launch(workflow, {"devices": [str(outside[0].pk)]}, "ui", False), tagged
        )
        self.assertIsNone(
            ApprovalPolicy.objects.find_for_launch(workflow, {"devices": [str(d.pk) for d in inside]}, "ui", False)
        )
        tagged.delete()
        many = make_policy(self.two_stages, object_content_type=device_type, min_objects=2)
        self.assertIsNone(
            ApprovalPolicy.objects.find_for_launch(workflow, {"devices": [str(d.pk) for d in inside[:2]]}, "ui", False)
        )
        self.assertEqual(
            ApprovalPolicy.objects.find_for_launch(workflow, {"devices": [str(d.pk) for d in inside]}, "ui", False),
            many,
        )


class GateTest(ApprovalTestBase):
    """A covered launch becomes a pending request in core's approval workflow; nothing runs."""

    def test_job_launch_is_held_with_core_approval_workflow(self):
        request = self.hold_job(expiry_minutes=60)
        self.assertEqual(request.status, REQUEST_STATUS.PENDING)
        self.assertFalse(real_runs(self.echo).exists())
        approval_workflow = request.approval_workflow
        self.assertEqual(approval_workflow.current_state, CORE_STATE.PENDING)
        self.assertEqual(approval_workflow.user, self.requester)
        self.assertEqual(approval_workflow.approval_workflow_stages.count(), 2)
        self.assertAlmostEqual((request.expires_at - timezone.now()).total_seconds(), 3600, delta=60)
        self.assertEqual(request.preview_job_result, None)
        self.assertIn("does not support dry run", request.preview_note)
        kinds = list(request.events.values_list("kind", flat=True))
        self.assertEqual(kinds, [ApprovalEventKindChoices.REQUESTED])

    def test_preview_dry_run_for_jobs_that_support_it(self):
        request = self.hold_job(job=self.dryrun_job)
        preview = request.preview_job_result
        self.assertIsNotNone(preview)
        self.assertEqual(preview.job_model, self.dryrun_job)
        self.assertEqual(preview.user, self.requester)
        self.assertEqual(real_runs(self.dryrun_job).count(), 0)

    def test_workflow_launch_holds_the_run(self):
        workflow = build_workflow({"a": "Echo"})
        make_policy(self.two_stages, workflows=[workflow])
        outcome = launch(workflow, {}, self.requester, LaunchOriginChoices.UI)
        self.assertTrue(outcome.approval_required)
        self.assertEqual(outcome.run.status, WorkflowRunStatusChoices.AWAITING_APPROVAL)
        self.assertEqual(outcome.request.workflow_run, outcome.run)
        preview = outcome.request.preview_run
        self.assertTrue(preview.is_preview and preview.dryrun)

    def test_require_preview_refuses_jobs_without_dry_run(self):
        make_policy(self.two_stages, jobs=[self.echo], require_preview=True)
        with self.assertRaises(LaunchRefused) as refused:
            launch(self.echo, {}, self.requester, LaunchOriginChoices.API)
        self.assertIn("requires a dry-run preview", str(refused.exception))
        self.assertFalse(LaunchRequest.objects.exists())

    def test_definition_emptied_after_saving_refuses_launch(self):
        definition = make_definition((self.group_b, 1))
        make_policy(definition, jobs=[self.echo])
        definition.approval_workflow_stage_definitions.all().delete()
        with self.assertRaises(LaunchRefused) as refused:
            launch(self.echo, {}, self.requester, LaunchOriginChoices.API)
        self.assertIn("cannot be satisfied", str(refused.exception))

    def test_forbidden_user_gets_no_request(self):
        from nautobot_jobflow.lib.errors import LaunchForbidden

        make_policy(self.two_stages, jobs=[self.echo])
        stranger = make_user("stranger", run_jobs=[])
        with self.assertRaises(LaunchForbidden):
            launch(self.echo, {}, stranger, LaunchOriginChoices.API)
        self.assertFalse(LaunchRequest.objects.exists())


class DecisionTest(ApprovalTestBase):
    """Quorum, stages in order, deny, self-approval, outsiders, expiry, comments, cancel."""

    def test_two_of_three_then_one_of_one(self):
        request = self.hold_job()
        decide(request, self.a1, "approve")
        self.assertEqual(request.status, REQUEST_STATUS.PENDING)
        with self.assertRaisesMessage(ApprovalRefused, "Only members of group 'approvers-a'"):
            decide(request, self.b1, "approve")  # stage 2 is not active yet; b1 is not in stage 1's group
        decide(request, self.a2, "approve")
        stages = list(
            request.approval_workflow.approval_workflow_stages.order_by("approval_workflow_stage_definition__sequence")
        )
        self.assertEqual([stage.state for stage in stages], [CORE_STATE.APPROVED, CORE_STATE.PENDING])
        self.assertFalse(real_runs(self.echo).exists())
        with self.assertRaisesMessage(ApprovalRefused, "Only members of group 'approvers-b'"):
            decide(request, self.a3, "approve")
        decide(request, self.b1, "approve", "ok by me")
        request.refresh_from_db()
        self.assertEqual(request.status, REQUEST_STATUS.LAUNCHED)
        self.assertEqual(real_runs(self.echo).count(), 1)
        self.assertEqual(request.job_result, real_runs(self.echo).get())
        self.assertEqual(request.job_result.user, self.requester, "the run is the requester's, not the approver's")
        kinds = list(request.events.values_list("kind", flat=True))
        self.assertEqual(kinds.count(ApprovalEventKindChoices.APPROVED), 3)
        self.assertEqual(kinds[-1], ApprovalEventKindChoices.LAUNCHED)

    def test_single_deny_ends_it(self):
        request = self.hold_job()
        decide(request, self.a1, "approve")
        decide(request, self.a2, "deny", "not today")
        request.refresh_from_db()
        self.assertEqual(request.status, REQUEST_STATUS.DENIED)
        self.assertIn("Denied by approver2: not today", request.message)
        with self.assertRaisesMessage(ApprovalRefused, "already denied"):
            decide(request, self.a3, "approve")
        self.assertFalse(real_runs(self.echo).exists())

    def test_requester_may_not_approve_even_as_superuser(self):
        self.group_a.user_set.add(self.requester)
        request = self.hold_job()
        with self.assertRaisesMessage(ApprovalRefused, "The requester may not approve their own request."):
            decide(request, self.requester, "approve")
        boss_request_user = make_user("super-requester", superuser=True)
        self.group_a.user_set.add(boss_request_user)
        request2 = launch(self.echo, {}, boss_request_user, LaunchOriginChoices.API).request
        with self.assertRaisesMessage(ApprovalRefused, "may not approve their own"):
            decide(request2, boss_request_user, "approve")
        refused = request.events.filter(kind=ApprovalEventKindChoices.REFUSED)
        self.assertEqual(refused.count(), 1)

    def test_self_approval_when_policy_or_setting_allows(self):
        self.group_a.user_set.add(self.requester)
        request = self.hold_job(allow_self_approval=True)
        decide(request, self.requester, "approve")
        self.assertEqual(
            request.approval_workflow.approval_workflow_stages.filter(
                approval_workflow_stage_responses__user=self.requester
            ).count(),
            1,
        )
        superuser = make_user("super-self", superuser=True)
        self.group_a.user_set.add(superuser)
        other_policy_request = launch(self.echo, {}, superuser, LaunchOriginChoices.API).request
        other_policy_request.policy.allow_self_approval = False
        other_policy_request.policy.save()
        with self.assertRaises(ApprovalRefused):
            decide(other_policy_request, superuser, "approve")
        plugins = {"nautobot_jobflow": {"superuser_self_approval": True}}
        with override_settings(PLUGINS_CONFIG=plugins):
            decide(other_policy_request, superuser, "approve")

    def test_outsider_superuser_may_not_approve(self):
        request = self.hold_job()
        with self.assertRaisesMessage(ApprovalRefused, "Only members of group 'approvers-a'"):
            decide(request, self.outsider, "approve")
        decide(request, self.outsider, "deny", "superusers may stop things")
        request.refresh_from_db()
        self.assertEqual(request.status, REQUEST_STATUS.DENIED)

    def test_expiry_enforced_at_approval_and_by_the_reconciler(self):
        request = self.hold_job(expiry_minutes=5)
        LaunchRequest.objects.filter(pk=request.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        request.refresh_from_db()
        with self.assertRaisesMessage(ApprovalRefused, "expired"):
            decide(request, self.a1, "approve")
        self.assertEqual(expire_due(), 1)
        request.refresh_from_db()
        self.assertEqual(request.status, REQUEST_STATUS.EXPIRED)
        self.assertEqual(request.approval_workflow.current_state, CORE_STATE.CANCELED)
        self.assertEqual(expire_due(), 0)
        self.assertFalse(real_runs(self.echo).exists())

    def test_expired_workflow_run_never_runs(self):
        workflow = build_workflow({"a": "Echo"})
        make_policy(self.two_stages, workflows=[workflow], expiry_minutes=1)
        outcome = launch(workflow, {}, self.requester, LaunchOriginChoices.UI)
        LaunchRequest.objects.filter(pk=outcome.request.pk).update(expires_at=timezone.now())
        expire_due()
        outcome.run.refresh_from_db()
        self.assertEqual(outcome.run.status, WorkflowRunStatusChoices.CANCELED)
        self.assertIn("Expired", outcome.run.error)

    def test_required_preview_must_finish_before_approval(self):
        request = self.hold_job(job=self.dryrun_job, require_preview=True)
        self.assertEqual(request.preview_job_result.status, "PENDING", "no worker runs in this test")
        with self.assertRaisesMessage(ApprovalRefused, "preview has not finished"):
            decide(request, self.a1, "approve")
        JobResult.objects.filter(pk=request.preview_job_result_id).update(status="SUCCESS")
        decide(LaunchRequest.objects.get(pk=request.pk), self.a1, "approve")

    def test_comment_and_cancel(self):
        request = self.hold_job()
        decide(request, self.outsider, "comment", "what does it touch?")
        self.assertTrue(request.events.filter(kind=ApprovalEventKindChoices.COMMENT).exists())
        cancel_request(request, self.requester, "never mind")
        self.assertEqual(request.status, REQUEST_STATUS.CANCELED)
        with self.assertRaises(ApprovalRefused):
            decide(request, self.a1, "approve")
        self.assertFalse(real_runs(self.echo).exists())

    def test_canceling_a_held_run_cancels_its_request(self):
        from nautobot_jobflow.engine.runner import cancel_run

        workflow = build_workflow({"a": "Echo"})
        make_policy(self.two_stages, workflows=[workflow])
        outcome = launch(workflow, {}, self.requester, LaunchOriginChoices.UI)
        cancel_run(outcome.run, self.requester)
        outcome.request.refresh_from_db()
        self.assertEqual(outcome.request.status, REQUEST_STATUS.CANCELED)
        self.assertEqual(outcome.request.approval_workflow.current_state, CORE_STATE.CANCELED)

    def test_approval_after_permission_revoked_fails_cleanly(self):
        from nautobot.users.models import ObjectPermission

        request = self.hold_job()
        ObjectPermission.objects.filter(users=self.requester, actions__contains=["run"]).delete()
        decide(request, self.a1, "approve")
        decide(request, self.a2, "approve")
        decide(request, self.b1, "approve")
        request.refresh_from_db()
        self.assertEqual(request.status, REQUEST_STATUS.FAILED)
        self.assertIn("may not run Job", request.message)
        self.assertFalse(real_runs(self.echo).exists())


class CorePathsTest(ApprovalTestBase):
    """Core's own approve views and API obey the same rules for our requests."""

    def _active_stage(self, request):
        return request.approval_workflow.active_stage

    def test_core_rest_approve_refuses_self_approval_and_counts_valid_ones(self):
        self.group_a.user_set.add(self.requester)
        self.requester.is_superuser = True  # core's API also needs change permission on the object
        self.requester.save()
        request = self.hold_job()
        stage = self._active_stage(request)
        url = reverse("extras-api:approvalworkflowstage-approve", kwargs={"pk": stage.pk})
        response = self.api("post", self.requester, url)
        self.assertEqual(response.status_code, 403, response.content)
        self.assertIn("may not approve their own", response.json()["detail"])
        for approver in (self.a1, self.a2):
            approver.is_superuser = True
            approver.save()
            response = self.api("post", approver, url)
            self.assertEqual(response.status_code, 200, response.content)
        stage.refresh_from_db()
        self.assertEqual(stage.state, CORE_STATE.APPROVED)
        self.assertFalse(real_runs(self.echo).exists(), "stage 2 still pending")

    def test_core_ui_approve_refuses_outsider_superuser(self):
        request = self.hold_job()
        stage = self._active_stage(request)
        self.client.force_login(self.outsider)
        response = self.client.post(reverse("extras:approvalworkflowstage_approve", kwargs={"pk": stage.pk}), {})
        self.assertEqual(response.status_code, 403)
        self.assertFalse(stage.approval_workflow_stage_responses.filter(state=CORE_STATE.APPROVED).exists())

    def test_core_approve_page_shows_the_preview(self):
        request = self.hold_job(job=self.dryrun_job)
        stage = self._active_stage(request)
        self.client.force_login(self.outsider)
        response = self.client.get(reverse("extras:approvalworkflowstage_approve", kwargs={"pk": stage.pk}))
        self.assertContains(response, "jobflow-preview")
        self.assertContains(response, str(request.preview_job_result.pk))

    def test_pending_requests_appear_in_core_dashboard(self):
        request = self.hold_job()
        self.client.force_login(self.a1)
        from nautobot.extras.utils import get_pending_approval_workflow_stages

        stages = get_pending_approval_workflow_stages(self.a1, ApprovalWorkflowStage.objects.all())
        self.assertIn(self._active_stage(request), list(stages))


class ApprovalPagesTest(ApprovalTestBase):
    """The app's Approvals page, request page (preview inline, decision buttons) and REST actions."""

    def test_approvals_page_lists_what_awaits_me(self):
        mine = self.hold_job()
        self.client.force_login(self.a1)
        response = self.client.get(
            reverse("plugins:nautobot_jobflow:launchrequest_list") + "?awaiting_me=True", HTTP_HX_REQUEST="true"
        )
        self.assertContains(response, mine.get_absolute_url())
        self.client.force_login(self.b1)  # stage 2's approver: not yet
        response = self.client.get(
            reverse("plugins:nautobot_jobflow:launchrequest_list") + "?awaiting_me=True", HTTP_HX_REQUEST="true"
        )
        self.assertNotContains(response, mine.get_absolute_url())

    def test_request_page_shows_preview_or_its_absence_and_decides(self):
        with_preview = self.hold_job(job=self.dryrun_job)
        self.client.force_login(self.a1)
        response = self.client.get(with_preview.get_absolute_url())
        self.assertContains(response, "Dry-run preview")
        self.assertContains(response, with_preview.preview_job_result.get_absolute_url())
        without = self.hold_job()
        response = self.client.get(without.get_absolute_url())
        self.assertContains(response, "jobflow-no-preview")
        self.assertContains(response, "does not support dry run")
        response = self.client.post(
            reverse("plugins:nautobot_jobflow:launchrequest_approve", kwargs={"pk": without.pk}), {"comments": "ok"}
        )
        self.assertEqual(response.status_code, 302)
        self.assertEqual(without.approval_workflow.active_stage.approval_workflow_stage_responses.count(), 1)
        self.client.force_login(self.requester)
        response = self.client.post(
            reverse("plugins:nautobot_jobflow:launchrequest_approve", kwargs={"pk": without.pk}), follow=True
        )
        self.assertContains(response, "may not approve their own")

    def test_rest_actions(self):
        request = self.hold_job()
        base = "plugins-api:nautobot_jobflow-api:launchrequest-"

        def post(user, action, body=None):
            return self.api("post", user, reverse(base + action, kwargs={"pk": request.pk}), body)

        response = post(self.requester, "approve")
        self.assertEqual(response.status_code, 403)
        self.assertIn("may not approve their own", response.json()["detail"])
        self.assertEqual(post(self.a1, "approve", {"comments": "fine"}).status_code, 200)
        self.assertEqual(post(self.a1, "approve").status_code, 403)  # twice
        self.assertEqual(post(self.a2, "comment", {"comments": "looking"}).status_code, 200)
        response = post(self.a2, "deny", {"comments": "no"})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            response.json()["status"]["value"]
            if isinstance(response.json()["status"], dict)
            else response.json()["status"],
            REQUEST_STATUS.DENIED,
        )
        events = self.api(
            "get",
            self.outsider,
            reverse("plugins-api:nautobot_jobflow-api:approvalevent-list") + f"?request={request.pk}",
        ).json()
        self.assertEqual(
            [
                event["kind"]["value"] if isinstance(event["kind"], dict) else event["kind"]
                for event in events["results"]
            ],
            ["requested", "refused", "approved", "refused", "comment", "denied", "denied"][: len(events["results"])],
        )

    def test_workflow_run_page_shows_approval_history(self):
        workflow = build_workflow({"a": "Echo"})
        make_policy(self.two_stages, workflows=[workflow])
        outcome = launch(workflow, {}, self.requester, LaunchOriginChoices.UI)
        self.client.force_login(self.outsider)
        response = self.client.get(outcome.run.get_absolute_url())
        self.assertContains(response, "Approval History")
        self.assertContains(response, "Held by policy")

    def test_runs_and_requests_cannot_be_created_by_import(self):
        for route in ("workflowrun-list", "launchrequest-list"):
            response = self.api("post", self.outsider, reverse(f"plugins-api:nautobot_jobflow-api:{route}"))
            self.assertEqual(response.status_code, 405, route)
        from django.urls import NoReverseMatch

        for route in ("workflowrun_import", "launchrequest_import", "launchrequest_add"):
            with self.assertRaises(NoReverseMatch):
                reverse(f"plugins:nautobot_jobflow:{route}")
        self.assertFalse(WorkflowRun.objects.exists())


class ApprovalGraphQLTest(ApprovalTestBase):
    """Policies, requests and their audit trail are queryable; object permissions limit what a user sees."""

    def graphql(self, user, text):
        response = self.api("post", user, "/api/graphql/", {"query": text})
        self.assertEqual(response.status_code, 200, response.content)
        body = response.json()
        self.assertNotIn("errors", body, body)
        return body["data"]

    def test_policies_requests_and_events(self):
        request = self.hold_job(expiry_minutes=30)
        decide(request, self.a1, "approve", "fine")
        data = self.graphql(
            self.outsider,
            "{ approval_policies { name expiry_minutes approval_workflow_definition { name } } "
            "launch_requests { target_name status user_name policy { name } events { kind user_name message } } }",
        )
        (policy,) = data["approval_policies"]
        self.assertEqual(policy["expiry_minutes"], 30)
        self.assertEqual(policy["approval_workflow_definition"]["name"], self.two_stages.name)
        (launch_request,) = data["launch_requests"]
        self.assertEqual(launch_request["target_name"], "Echo")
        self.assertEqual(launch_request["status"].lower(), "pending")
        kinds = [event["kind"].lower() for event in launch_request["events"]]
        self.assertEqual(kinds, ["requested", "approved"])

    def test_object_permissions_limit_requests(self):
        from django.contrib.contenttypes.models import ContentType
        from nautobot.users.models import ObjectPermission

        make_policy(self.two_stages, jobs=[self.echo])
        limited = make_user("limited-requester", view_requests=False)
        mine = launch(self.echo, {}, limited, LaunchOriginChoices.API).request
        launch(self.echo, {}, self.requester, LaunchOriginChoices.API)
        viewer = make_user("viewer", view_requests=False)
        own = ObjectPermission.objects.create(name="own requests", actions=["view"], constraints={"user": "$user"})
        own.object_types.add(ContentType.objects.get_for_model(LaunchRequest))
        own.users.add(viewer, limited)
        self.assertEqual(self.graphql(viewer, "{ launch_requests { id } }")["launch_requests"], [])
        only_mine = self.graphql(limited, "{ launch_requests { id user_name } }")["launch_requests"]
        self.assertEqual([item["id"] for item in only_mine], [str(mine.pk)])


class RequestRunTest(ApprovalTestBase):
    """A single Job run through Jobflow: held when a policy covers it, started otherwise."""

    def test_request_run_page_and_api(self):
        make_policy(self.two_stages, jobs=[self.echo], applies_to=PolicyTargetChoices.JOBS)
        self.client.force_login(self.requester)
        page = reverse("plugins:nautobot_jobflow:launchrequest_request_run")
        self.assertContains(self.client.get(page + f"?job={self.echo.pk}"), "Run or request approval")
        response = self.client.post(page, {"job": str(self.echo.pk), "inputs": '{"message": "hi"}'})
        request = LaunchRequest.objects.get(user=self.requester)
        self.assertRedirects(response, request.get_absolute_url(), fetch_redirect_response=False)
        self.assertEqual(request.inputs["message"], "hi")
        response = self.client.post(page, {"job": str(self.echo.pk), "inputs": '{"number": "many"}'})
        self.assertEqual(response.status_code, 200)
        self.assertIn("number", " ".join(str(e) for e in response.context["form"].errors.values()))
        api = reverse("plugins-api:nautobot_jobflow-api:launchrequest-launch-job")
        response = self.api("post", self.requester, api, {"job": str(self.echo.pk), "inputs": {"message": "x"}})
        self.assertEqual(response.status_code, 202, response.content)
        self.assertTrue(response.json()["approval_required"])
        noop = get_test_job("Noop")
        response = self.api("post", self.requester, api, {"job": str(noop.pk)})
        self.assertEqual(response.status_code, 201, response.content)
        self.assertTrue(JobResult.objects.filter(pk=response.json()["job_result"], job_model=noop).exists())
        response = self.api("post", self.requester, api, {"job": str(noop.pk), "inputs": [1]})
        self.assertEqual(response.status_code, 400)
        self.assertIn("inputs", response.json())
