"""Definitions a Git repository owns are read-only in the UI, the REST API and the ORM, with where to change them."""

from django.contrib.messages import get_messages
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from nautobot.apps.testing import TestCase
from nautobot.extras.models import GitRepository
from nautobot.users.models import Token

from nautobot_jobflow.models import ApprovalPolicy, HookRule, Workflow, WorkflowStep
from nautobot_jobflow.models.git_owned import GitManaged, git_sync_writes
from tests.fixtures import get_test_job
from tests.fixtures_approvals import make_definition, make_group, make_policy, make_user
from tests.fixtures_hooks import create_rule
from tests.fixtures_workflows import create_workflow

WORKFLOW_MESSAGE = (
    "Workflow 'From Git' is managed by Git repository 'Definitions'; change jobflow/workflows/git.yaml there."
)


def ui(name, **kwargs):
    return reverse(f"plugins:nautobot_jobflow:{name}", kwargs=kwargs or None)


def api(name, **kwargs):
    return reverse(f"plugins-api:nautobot_jobflow-api:{name}", kwargs=kwargs or None)


class GitOwnedTestCase(TestCase):
    """A workflow, a hook rule and a policy owned by a repository (as a sync leaves them), and one made here."""

    @classmethod
    def setUpTestData(cls):
        cls.repository = GitRepository.objects.create(name="Definitions", remote_url="http://localhost/defs.git")
        with git_sync_writes(cls.repository):
            cls.workflow = create_workflow(
                "From Git", steps=("a", "b"), git_repository=cls.repository, git_path="jobflow/workflows/git.yaml"
            )
            cls.rule = create_rule(git_repository=cls.repository, git_path="jobflow/hook_rules/rule.yaml")
            definition = make_definition((make_group("approvers", make_user()), 1))
            cls.policy = make_policy(
                definition, git_repository=cls.repository, git_path="jobflow/approval_policies/p.yaml"
            )
        cls.local = create_workflow("Made here", steps=("z",))

    def setUp(self):
        super().setUp()
        self.user.is_superuser = True
        self.user.save()

    def assertRefusedWith(self, response, message, redirect_to):
        self.assertRedirects(response, redirect_to, fetch_redirect_response=False)
        self.assertIn(message, [str(item) for item in get_messages(response.wsgi_request)])


class UIReadOnlyTest(GitOwnedTestCase):
    def test_edit_and_delete_pages_refuse_and_say_where_to_change_it(self):
        page = self.workflow.get_absolute_url()
        self.assertRefusedWith(self.client.get(ui("workflow_edit", pk=self.workflow.pk)), WORKFLOW_MESSAGE, page)
        response = self.client.post(
            ui("workflow_edit", pk=self.workflow.pk), {"name": "Renamed", "dryrun_mode": "skip"}
        )
        self.assertRefusedWith(response, WORKFLOW_MESSAGE, page)
        response = self.client.post(ui("workflow_delete", pk=self.workflow.pk), {"confirm": True})
        self.assertRefusedWith(response, WORKFLOW_MESSAGE, page)
        self.workflow.refresh_from_db()
        self.assertEqual(self.workflow.name, "From Git")

        rule_message = (
            "Hook rule '{}' is managed by Git repository 'Definitions'; change jobflow/hook_rules/rule.yaml there."
        )
        response = self.client.get(ui("hookrule_edit", pk=self.rule.pk))
        self.assertRefusedWith(response, rule_message.format(self.rule.name), self.rule.get_absolute_url())
        response = self.client.post(ui("approvalpolicy_delete", pk=self.policy.pk), {"confirm": True})
        self.assertRefusedWith(
            response,
            f"Approval policy '{self.policy.name}' is managed by Git repository 'Definitions'; change "
            "jobflow/approval_policies/p.yaml there.",
            self.policy.get_absolute_url(),
        )
        self.assertTrue(ApprovalPolicy.objects.filter(pk=self.policy.pk).exists())
        self.assertEqual(self.client.get(ui("workflow_edit", pk=self.local.pk)).status_code, 200)

    def test_the_steps_and_edges_of_a_git_workflow_are_read_only_too(self):
        step = self.workflow.steps.get(name="a")
        page = self.workflow.get_absolute_url()
        self.assertRefusedWith(self.client.get(ui("workflowstep_edit", pk=step.pk)), WORKFLOW_MESSAGE, page)
        self.assertRefusedWith(
            self.client.post(ui("workflowstep_delete", pk=step.pk), {"confirm": True}), WORKFLOW_MESSAGE, page
        )
        edge = self.workflow.edges.get()
        self.assertRefusedWith(self.client.get(ui("workflowedge_edit", pk=edge.pk)), WORKFLOW_MESSAGE, page)
        response = self.client.get(ui("workflowstep_add") + f"?workflow={self.workflow.pk}")
        self.assertRefusedWith(response, WORKFLOW_MESSAGE, page)
        response = self.client.post(
            ui("workflowstep_add"), {"workflow": self.workflow.pk, "name": "c", "job": get_test_job("Echo").pk}
        )
        self.assertRefusedWith(response, WORKFLOW_MESSAGE, page)
        self.assertEqual(sorted(self.workflow.steps.values_list("name", flat=True)), ["a", "b"])
        with self.assertRaises(NoReverseMatch):  # the read-only mixin adds no bulk-edit page to steps
            ui("workflowstep_bulk_edit")

    def test_bulk_edit_and_delete_refuse_a_selection_with_a_git_workflow(self):
        selection = {"pk": [self.workflow.pk, self.local.pk]}
        response = self.client.post(ui("workflow_bulk_delete"), {**selection, "_confirm": True, "confirm": True})
        message = f"1 of the selected workflows is managed by Git and cannot be changed here. {WORKFLOW_MESSAGE}"
        self.assertRefusedWith(response, message, ui("workflow_list"))
        response = self.client.post(ui("workflow_bulk_edit"), {**selection, "_apply": True, "description": "bulk"})
        self.assertRefusedWith(response, message, ui("workflow_list"))
        self.assertEqual(Workflow.objects.filter(pk__in=selection["pk"]).count(), 2)

    def test_yaml_import_does_not_replace_a_git_workflow(self):
        text = "name: From Git\nsteps:\n  - name: x\n    job: jobflow_test_jobs.Noop\n"
        response = self.client.post(ui("workflow_import_yaml"), {"yaml_text": text})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.context["form"].errors["yaml_text"], [WORKFLOW_MESSAGE])
        self.assertEqual(sorted(self.workflow.steps.values_list("name", flat=True)), ["a", "b"])


class RESTReadOnlyTest(GitOwnedTestCase):
    def setUp(self):
        super().setUp()
        self.header = {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=self.user).key}"}

    def send(self, method, url, data=None):
        return getattr(self.client, method)(url, data, content_type="application/json", **self.header)

    def assertForbiddenWith(self, response, message):
        self.assertEqual(response.status_code, 403, response.content)
        self.assertEqual(response.json()["detail"], message)

    def test_writes_to_git_definitions_answer_403_with_where_to_change_them(self):
        detail = api("workflow-detail", pk=self.workflow.pk)
        self.assertForbiddenWith(self.send("patch", detail, {"description": "x"}), WORKFLOW_MESSAGE)
        self.assertForbiddenWith(self.send("delete", detail), WORKFLOW_MESSAGE)
        self.assertForbiddenWith(
            self.send("patch", api("workflow-list"), [{"id": str(self.workflow.pk), "description": "x"}]),
            WORKFLOW_MESSAGE,
        )
        self.assertForbiddenWith(
            self.send("delete", api("workflow-list"), [{"id": str(self.workflow.pk)}]), WORKFLOW_MESSAGE
        )
        step = self.workflow.steps.get(name="a")
        self.assertForbiddenWith(
            self.send("patch", api("workflowstep-detail", pk=step.pk), {"max_retries": 2}), WORKFLOW_MESSAGE
        )
        new_step = {"workflow": str(self.workflow.pk), "name": "c", "job": str(get_test_job("Echo").pk)}
        self.assertForbiddenWith(self.send("post", api("workflowstep-list"), new_step), WORKFLOW_MESSAGE)
        self.assertForbiddenWith(self.send("post", api("workflowstep-list"), [new_step]), WORKFLOW_MESSAGE)
        moved = {"workflow": str(self.workflow.pk)}
        local_step = self.local.steps.get()
        self.assertForbiddenWith(
            self.send("patch", api("workflowstep-detail", pk=local_step.pk), moved), WORKFLOW_MESSAGE
        )
        self.assertForbiddenWith(
            self.send("delete", api("workflowedge-detail", pk=self.workflow.edges.get().pk)), WORKFLOW_MESSAGE
        )
        response = self.send("patch", api("hookrule-detail", pk=self.rule.pk), {"enabled": False})
        self.assertEqual(response.status_code, 403)
        self.assertIn("change jobflow/hook_rules/rule.yaml there", response.json()["detail"])
        response = self.send("delete", api("approvalpolicy-detail", pk=self.policy.pk))
        self.assertEqual(response.status_code, 403)
        self.assertIn("change jobflow/approval_policies/p.yaml there", response.json()["detail"])
        self.assertEqual(
            self.send("patch", api("workflow-detail", pk=self.local.pk), {"description": "x"}).status_code, 200
        )
        self.workflow.refresh_from_db()
        self.assertEqual((self.workflow.description, self.workflow.steps.count()), ("", 2))
        self.assertTrue(HookRule.objects.get(pk=self.rule.pk).enabled)

    def test_the_api_shows_the_owner_and_does_not_let_it_be_set(self):
        response = self.send("get", api("workflow-detail", pk=self.workflow.pk))
        self.assertEqual(response.json()["git_path"], "jobflow/workflows/git.yaml")
        self.assertEqual(response.json()["git_repository"]["id"], str(self.repository.pk))
        response = self.send(
            "post", api("workflow-list"), {"name": "Sneaky", "git_repository": str(self.repository.pk), "git_path": "x"}
        )
        self.assertEqual(response.status_code, 201, response.content)
        sneaky = Workflow.objects.get(name="Sneaky")
        self.assertEqual((sneaky.git_repository, sneaky.git_path), (None, ""))


class GuardTest(GitOwnedTestCase):
    def test_only_the_owning_repositorys_sync_writes_a_git_definition(self):
        self.workflow.description = "edited in the shell"
        with self.assertRaises(GitManaged) as refused:
            self.workflow.save()
        self.assertEqual(refused.exception.messages, [WORKFLOW_MESSAGE])
        with self.assertRaises(GitManaged), transaction.atomic():  # Django deletes in a transaction of its own
            WorkflowStep.objects.get(workflow=self.workflow, name="a").delete()
        other = GitRepository.objects.create(name="Other", remote_url="http://localhost/other.git")
        with git_sync_writes(other), self.assertRaises(GitManaged):
            self.rule.save()
        with git_sync_writes(self.repository):
            self.workflow.save()
        self.workflow.refresh_from_db()
        self.assertEqual(self.workflow.description, "edited in the shell")
