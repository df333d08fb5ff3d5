"""Human-input steps: a run waits for people's answers, through REST and the run page, refused and timed out."""

import uuid

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from nautobot.apps.testing import TestCase, TransactionTestCase
from nautobot.users.models import Token

from nautobot_jobflow.choices import EdgeTriggerChoices
from nautobot_jobflow.choices import StepRunStatusChoices as S
from nautobot_jobflow.choices import WorkflowRunStatusChoices as R
from nautobot_jobflow.engine.runner import advance, cancel_run, pause_run, resume_run
from nautobot_jobflow.models import StepInputResponse, WorkflowStepRun
from tests.fixtures import create_superuser, refresh_jobs, wait_for
from tests.fixtures_approvals import make_group, make_user
from tests.fixtures_engine import build_workflow, run_summary, start, step_runs, wait_for_run
from tests.fixtures_workflows import grant

ANSWER_SCHEMA = {
    "type": "object",
    "required": ["go", "note", "count"],
    "properties": {
        "go": {"type": "boolean", "title": "Go ahead"},
        "note": {"type": "string", "pattern": "^CHG", "description": "The change ticket."},
        "count": {"type": "integer", "minimum": 1},
    },
}
GOOD_ANSWER = {"go": True, "note": "CHG-42", "count": 3}


def respond_path(step_run):
    return reverse("plugins-api:nautobot_jobflow-api:workflowsteprun-respond", kwargs={"pk": step_run.pk})


def ui_respond_path(run):
    return reverse("plugins:nautobot_jobflow:workflowrun_respond", kwargs={"pk": run.pk})


class InputStepMixin:
    """A requester (superuser, runs the Jobs), an approver in the responder group, an outsider with the same views."""

    def make_people(self):
        ContentType.objects.clear_cache()  # a flush between transactional tests gives content types new ids
        refresh_jobs()
        self.requester = create_superuser(f"req-{uuid.uuid4().hex[:4]}")
        self.approver = make_user(f"ap-{uuid.uuid4().hex[:4]}")
        self.outsider = make_user(f"out-{uuid.uuid4().hex[:4]}")
        for user in (self.approver, self.outsider):
            grant(user, WorkflowStepRun, ["view"], name=f"steps {user.username}")
        self.group = make_group(f"approvers-{uuid.uuid4().hex[:4]}", self.approver)

    def input_step(self, prompt="Deploy to {{ steps.prepare.result.message }}?", **fields):
        return {
            "kind": "input",
            "prompt": prompt,
            "answer_schema": ANSWER_SCHEMA,
            "responder_group": self.group,
            **fields,
        }

    def chain(self, **input_fields):
        """prepare (Job) → approve (input) → deploy (Job) when the answer says go, its inputs from the answer."""
        return build_workflow(
            {
                "prepare": {"job": "Echo", "inputs": {"message": "r1"}},
                "approve": self.input_step(**input_fields),
                "deploy": {
                    "job": "Echo",
                    "inputs": {
                        "message": "{{ steps.approve.result.note }}",
                        "number": "{{ steps.approve.result.count }}",
                    },
                },
            },
            [("prepare", "approve"), ("approve", "deploy", EdgeTriggerChoices.CONDITION, "steps.approve.result.go")],
        )

    def api_get(self, user, path):
        self.client.logout()  # the token alone authenticates
        return self.client.get(path, HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")

    def post_answer(self, user, step_run, answer):
        token = Token.objects.create(user=user)
        self.client.logout()  # the token alone authenticates
        return self.client.post(
            respond_path(step_run),
            {"answer": answer},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {token.key}",
        )

    def waiting(self, run, name="approve"):
        return wait_for(
            lambda: run.step_runs.filter(step_name=name, status=S.AWAITING_INPUT).first(),
            message=f"step {name} awaits input",
        )


@pytest.mark.worker
@pytest.mark.usefixtures("celery_worker")
class InputStepWorkerTest(InputStepMixin, TransactionTestCase):
    """Job → input → Job on the real worker: the answer is the step's result and feeds the next step."""

    def setUp(self):
        super().setUp()
        self.make_people()

    def test_answer_through_rest_feeds_the_next_step(self):
        run = start(self.chain(), self.requester)
        waiting = self.waiting(run)
        run.refresh_from_db()
        self.assertEqual(run.status, R.AWAITING_INPUT, run_summary(run))
        self.assertEqual(waiting.rendered_inputs, {"prompt": "Deploy to r1?"})
        self.assertIsNone(waiting.job_result_id, "an input step runs no Job")

        response = self.post_answer(self.approver, waiting, GOOD_ANSWER)
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["status"], S.SUCCEEDED)
        self.assertEqual(response.json()["result"], GOOD_ANSWER)

        run = wait_for_run(run)
        self.assertEqual(run.status, R.SUCCEEDED, run_summary(run))
        latest = step_runs(run)
        self.assertEqual(latest["approve"].result, GOOD_ANSWER)
        self.assertEqual(latest["deploy"].rendered_inputs, {"message": "CHG-42", "number": 3})
        self.assertEqual(latest["deploy"].result["message"], "CHG-42")
        (audit,) = StepInputResponse.objects.all()
        self.assertEqual(
            (audit.user, audit.user_name, audit.answer), (self.approver, self.approver.username, GOOD_ANSWER)
        )
        self.assertLessEqual(audit.time, latest["deploy"].started)

        listed = self.api_get(
            self.requester, reverse("plugins-api:nautobot_jobflow-api:stepinputresponse-list") + f"?run={run.pk}"
        ).json()
        self.assertEqual([row["user_name"] for row in listed["results"]], [self.approver.username])
        again = self.post_answer(self.approver, latest["approve"], GOOD_ANSWER)
        self.assertEqual(again.status_code, 400, "a finished step takes no more answers")
        self.assertIn("not awaiting input", str(again.json()["status"]))

    def test_answer_through_the_run_page(self):
        run = start(self.chain(), self.requester)
        waiting = self.waiting(run)
        self.client.force_login(self.requester)
        page = self.client.get(run.get_absolute_url()).content.decode()
        self.assertTrue("Deploy to r1?" in page, "everyone who sees the run sees the prompt")
        self.assertFalse("jobflow-answer-form" in page, "the requester (not a responder) gets no form")

        self.client.force_login(self.approver)
        page = self.client.get(run.get_absolute_url()).content.decode()
        self.assertTrue("Deploy to r1?" in page and "jobflow-answer-form" in page, "prompt and form on the run page")
        self.assertTrue('name="input_note"' in page, "the form is generated from the answer schema")
        self.assertTrue(f'action="{ui_respond_path(run)}"' in page, "the form posts to the run's respond view")

        form = {"step_run": str(waiting.pk), "input_go": "on", "input_note": "no ticket", "input_count": "2"}
        refused = self.client.post(ui_respond_path(run), form)
        self.assertEqual(refused.status_code, 200)
        errors = refused.context["items"][0]["form"].errors
        self.assertEqual(errors, {"input_note": ["note: 'no ticket' does not match '^CHG'"]}, "on the field")
        self.assertTrue("FORM-ERROR input_note" in refused.content.decode(), "shown on the page")
        self.assertFalse(StepInputResponse.objects.exists())

        response = self.client.post(ui_respond_path(run), {**form, "input_note": "CHG-7"})
        self.assertRedirects(response, run.get_absolute_url(), fetch_redirect_response=False)
        run = wait_for_run(run)
        self.assertEqual(run.status, R.SUCCEEDED, run_summary(run))
        self.assertEqual(step_runs(run)["approve"].result, {"go": True, "note": "CHG-7", "count": 2})
        self.assertEqual(step_runs(run)["deploy"].result["message"], "CHG-7")

    def test_timeout_follows_the_on_failure_edge(self):
        workflow = build_workflow(
            {
                "approve": self.input_step(prompt="Anyone?", timeout=2),
                "escalate": {"job": "Echo", "inputs": {"message": "approve {{ steps.approve.status }}"}},
            },
            [("approve", "escalate", EdgeTriggerChoices.ON_FAILURE)],
        )
        run = wait_for_run(start(workflow, self.requester), timeout=60)
        latest = step_runs(run)
        self.assertEqual(latest["approve"].status, S.TIMED_OUT, run_summary(run))
        self.assertIn("did not get an answer within its timeout of 2s", latest["approve"].error)
        self.assertEqual(latest["escalate"].result["message"], "approve timed-out")
        self.assertEqual(run.status, R.SUCCEEDED, "the on-failure branch handles the timeout")
        late = self.post_answer(self.approver, latest["approve"], GOOD_ANSWER)
        self.assertEqual(late.status_code, 400)
        self.assertFalse(StepInputResponse.objects.exists())

    def test_timeout_without_a_handler_fails_the_run(self):
        workflow = build_workflow(
            {"approve": self.input_step(prompt="Anyone?", timeout=2), "after": "Noop"}, [("approve", "after")]
        )
        run = wait_for_run(start(workflow, self.requester), timeout=60)
        self.assertEqual(run.status, R.FAILED, run_summary(run))
        self.assertIn("approve: Step 'approve' did not get an answer", run.error)
        self.assertEqual(step_runs(run)["after"].status, S.SKIPPED)


class InputStepAnswerRulesTest(InputStepMixin, TestCase):
    """Who may answer, what an answer must be, and how many: refusals record nothing (no worker: advanced here)."""

    def setUp(self):
        super().setUp()
        self.make_people()

    def waiting_run(self, **input_fields):
        workflow = build_workflow({"approve": self.input_step(prompt="Go?", **input_fields)})
        run = start(workflow, self.requester)
        advance(run.pk)  # the launch's advance waits for a commit that never comes in a TestCase
        return run, run.step_runs.get(step_name="approve", status=S.AWAITING_INPUT)

    def assert_nothing_recorded(self, step_run):
        step_run.refresh_from_db()
        self.assertEqual(step_run.status, S.AWAITING_INPUT)
        self.assertFalse(StepInputResponse.objects.filter(step_run=step_run).exists())

    def test_user_outside_the_group_is_refused(self):
        _run, step_run = self.waiting_run()
        response = self.post_answer(self.outsider, step_run, GOOD_ANSWER)
        self.assertEqual(response.status_code, 403, response.content)
        self.assertIn(f"Only members of group '{self.group.name}' may answer step 'approve'", response.json()["detail"])
        superuser = create_superuser(f"su-{uuid.uuid4().hex[:4]}")
        self.assertEqual(self.post_answer(superuser, step_run, GOOD_ANSWER).status_code, 403, "superusers too")
        self.assert_nothing_recorded(step_run)

    def test_requester_is_refused_unless_the_step_allows_it(self):
        self.group.user_set.add(self.requester)
        _run, step_run = self.waiting_run()
        response = self.post_answer(self.requester, step_run, GOOD_ANSWER)
        self.assertEqual(response.status_code, 403, response.content)
        self.assertIn("The user who started the run may not answer", response.json()["detail"])
        self.assert_nothing_recorded(step_run)

        _run, allowed = self.waiting_run(requester_may_answer=True)
        self.assertEqual(self.post_answer(self.requester, allowed, GOOD_ANSWER).status_code, 200)
        allowed.refresh_from_db()
        self.assertEqual((allowed.status, allowed.result), (S.SUCCEEDED, GOOD_ANSWER))

    def test_answer_against_the_schema_names_the_field(self):
        _run, step_run = self.waiting_run()
        for answer, message in (
            ({**GOOD_ANSWER, "go": "yes"}, "go: 'yes' is not of type 'boolean'"),
            ({**GOOD_ANSWER, "count": 0}, "count: 0 is less than the minimum of 1"),
            ({"go": True, "count": 1}, "(answer): 'note' is a required property"),
        ):
            response = self.post_answer(self.approver, step_run, answer)
            self.assertEqual(response.status_code, 400, response.content)
            self.assertIn(message, " ".join(response.json()["answer"]))
        response = self.post_answer(self.approver, step_run, ["not", "an", "object"])
        self.assertEqual(response.status_code, 400)
        self.assertIn("must be a JSON object", str(response.json()["answer"]))
        self.assert_nothing_recorded(step_run)

    def test_two_responders_needed(self):
        second = make_user(f"ap2-{uuid.uuid4().hex[:4]}")
        grant(second, WorkflowStepRun, ["view"], name="steps second")
        self.group.user_set.add(second)
        _run, step_run = self.waiting_run(min_responders=2)
        self.assertEqual(self.post_answer(self.approver, step_run, GOOD_ANSWER).status_code, 200)
        step_run.refresh_from_db()
        self.assertEqual(step_run.status, S.AWAITING_INPUT, "one answer of two")
        again = self.post_answer(self.approver, step_run, GOOD_ANSWER)
        self.assertEqual(again.status_code, 400)
        self.assertIn("already answered", str(again.json()["answer"]))
        other = {**GOOD_ANSWER, "note": "CHG-2"}
        self.assertEqual(self.post_answer(second, step_run, other).status_code, 200)
        step_run.refresh_from_db()
        self.assertEqual((step_run.status, step_run.result), (S.SUCCEEDED, [GOOD_ANSWER, other]))
        self.assertEqual(
            list(StepInputResponse.objects.order_by("time").values_list("user_name", flat=True)),
            [self.approver.username, second.username],
        )

    def test_awaiting_my_input(self):
        run, step_run = self.waiting_run()
        run.refresh_from_db()
        self.assertEqual(run.status, R.AWAITING_INPUT)
        listed = reverse("plugins-api:nautobot_jobflow-api:workflowsteprun-list") + "?awaiting_my_input=true"
        for user, expected in ((self.approver, [str(step_run.pk)]), (self.outsider, []), (self.requester, [])):
            rows = self.api_get(user, listed).json()["results"]
            self.assertEqual([row["id"] for row in rows], expected, user)
        page_url = reverse("plugins:nautobot_jobflow:awaiting_input")
        self.client.force_login(self.approver)
        self.assertIn(ui_respond_path(run), self.client.get(page_url).content.decode())
        self.client.force_login(self.outsider)
        self.assertNotIn(ui_respond_path(run), self.client.get(page_url).content.decode())
        self.assertEqual(self.post_answer(self.approver, step_run, GOOD_ANSWER).status_code, 200)
        self.client.force_login(self.approver)
        self.assertNotIn(ui_respond_path(run), self.client.get(page_url).content.decode(), "answered: off the list")

    def test_answer_while_paused_then_resume(self):
        run, step_run = self.waiting_run()
        run = pause_run(run, self.requester)
        self.assertEqual(run.status, R.PAUSED, "a run awaiting input can be paused")
        self.assertEqual(self.post_answer(self.approver, step_run, GOOD_ANSWER).status_code, 200)
        advance(run.pk)  # what the answer's advance does after commit: a paused run starts nothing
        run.refresh_from_db()
        step_run.refresh_from_db()
        self.assertEqual((run.status, step_run.status), (R.PAUSED, S.SUCCEEDED))
        resume_run(run, self.requester)
        run.refresh_from_db()
        self.assertEqual(run.status, R.SUCCEEDED, run_summary(run))

    def test_cancel_ends_the_wait(self):
        run, step_run = self.waiting_run()
        cancel_run(run, self.requester)
        step_run.refresh_from_db()
        self.assertEqual(step_run.status, S.CANCELED)
        response = self.post_answer(self.approver, step_run, GOOD_ANSWER)
        self.assertEqual(response.status_code, 400)
        self.assertIn("not awaiting input (it is canceled)", str(response.json()["status"]))
        self.assertFalse(StepInputResponse.objects.exists())
