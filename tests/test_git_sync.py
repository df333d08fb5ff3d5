"""Definitions synced from a real local Git repository by core's "Git Repository: Sync" Job (run in this process).

Transactional: the sync writes its log through core's separate ``job_logs`` connection.
"""

import shutil
import tempfile

from django.contrib.contenttypes.models import ContentType
from django.test import override_settings
from django.urls import reverse
from nautobot.apps.testing import TransactionTestCase
from nautobot.extras.choices import JobResultStatusChoices, LogLevelChoices
from nautobot.extras.models import GitRepository, ObjectChange
from nautobot.users.models import Token

from nautobot_jobflow.models import ApprovalPolicy, HookRule, Workflow, WorkflowEdge, WorkflowStep
from tests.fixtures import get_test_job, refresh_jobs
from tests.fixtures_approvals import make_definition, make_group, make_user
from tests.fixtures_git import (
    EVERY_CONTENT,
    REPOSITORY_JOB,
    LocalRepository,
    create_repository,
    forget_repository_code,
    log_lines,
    sync,
    workflow_yaml,
)
from tests.fixtures_workflows import create_workflow

DEFINITION_MODELS = (Workflow, WorkflowStep, WorkflowEdge, HookRule, ApprovalPolicy)

HOOK_RULE = """
name: Notify new devices
event_source: object-change
content_types: [dcim.device]
type_create: true
workflow: Notify
"""

POLICY = """
name: Provisioning is approved
applies_to: workflows
workflows: [Provision]
approval_workflow_definition: Two eyes
expiry_minutes: 60
"""


def definition_changes():
    """ObjectChanges of the app's definitions (workflows, their steps and edges, hook rules, policies)."""
    types = ContentType.objects.get_for_models(*DEFINITION_MODELS).values()
    return ObjectChange.objects.filter(changed_object_type__in=types)


class GitSyncTest(TransactionTestCase):
    """Create, leave alone, update and delete what a repository defines; refuse bad files one by one."""

    def setUp(self):
        super().setUp()
        refresh_jobs()
        git_root = tempfile.mkdtemp(prefix="jobflow-git-root-")
        self.addCleanup(shutil.rmtree, git_root, ignore_errors=True)
        self.enterContext(override_settings(GIT_ROOT=git_root))
        self.local = self.new_local()

    def new_local(self):
        local = LocalRepository()
        self.addCleanup(local.cleanup)
        return local

    def tearDown(self):
        for repository in GitRepository.objects.all():
            repository.delete()  # core calls the contents' callbacks with delete=True
            forget_repository_code(repository.slug)
        super().tearDown()

    def assertSynced(self, job_result):
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_SUCCESS, log_lines(job_result))

    def test_first_sync_creates_a_second_unchanged_sync_writes_nothing(self):
        make_definition((make_group("approvers", make_user()), 1), name="Two eyes")
        repository = create_repository("Definitions", self.local, provides=["extras.job", *EVERY_CONTENT])
        hello = f"{repository.slug}.jobs.GitHello"
        self.local.write("__init__.py", "")  # core imports the repository as a package
        self.local.write("jobs/__init__.py", REPOSITORY_JOB)
        self.local.write(
            "jobflow/workflows/provision.yaml",
            workflow_yaml(
                "Provision",
                {
                    "check": {"job": "jobflow_test_jobs.Echo", "timeout": 60},
                    "hello": hello,
                    "notify": {"workflow": "Notify"},
                },
                edges=[("check", "hello")],
                description="From Git",
            ),
        )
        # Nested by Provision, and applied first although its file comes later.
        self.local.write("jobflow/workflows/z-notify.yaml", workflow_yaml("Notify", {"echo": "jobflow_test_jobs.Echo"}))
        # The rule runs a workflow of the same repository (core's rule: a rule needs a target its saver may run, so
        # not "Provision", whose Git Job stays disabled until someone enables it).
        self.local.write("jobflow/hook_rules/notify.yaml", HOOK_RULE)
        self.local.write("jobflow/approval_policies/provision.yml", POLICY)
        self.local.commit("first definitions")

        job_result = sync(repository)
        self.assertSynced(job_result)
        workflow = Workflow.objects.get(name="Provision")
        self.assertEqual((workflow.git_repository, workflow.git_path), (repository, "jobflow/workflows/provision.yaml"))
        self.assertEqual(workflow.description, "From Git")
        self.assertEqual(workflow.steps.get(name="hello").job.module_name, f"{repository.slug}.jobs")
        self.assertTrue(workflow.edges.filter(source__name="check", target__name="hello").exists())
        self.assertEqual(workflow.steps.get(name="notify").subworkflow.git_path, "jobflow/workflows/z-notify.yaml")
        rule = HookRule.objects.get(name="Notify new devices")
        self.assertEqual((rule.workflow.name, rule.git_repository), ("Notify", repository))
        self.assertEqual([str(ct) for ct in rule.content_types.all()], ["DCIM | device"])
        self.assertEqual(rule.owner.username, "git-syncer")
        policy = ApprovalPolicy.objects.get(name="Provisioning is approved")
        self.assertEqual(
            (list(policy.workflows.all()), policy.git_path), ([workflow], "jobflow/approval_policies/provision.yml")
        )
        self.assertIn("jobflow/workflows/provision.yaml: Created workflow 'Provision'.", log_lines(job_result))

        changes = definition_changes().count()
        job_result = sync(repository)
        self.assertSynced(job_result)
        self.assertEqual(definition_changes().count(), changes, "an unchanged repository writes nothing")
        self.assertIn("jobflow/workflows/provision.yaml: No change to workflow 'Provision'.", log_lines(job_result))
        self.assertIn(
            "jobflow/hook_rules/notify.yaml: No change to hook rule 'Notify new devices'.", log_lines(job_result)
        )

        # Read-only everywhere else: the REST API refuses, naming the repository and the file.
        self.user.is_superuser = True
        self.user.save()
        token = Token.objects.create(user=self.user)
        response = self.client.patch(
            reverse("plugins-api:nautobot_jobflow-api:workflow-detail", kwargs={"pk": workflow.pk}),
            {"description": "edited"},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {token.key}",
        )
        self.assertEqual(response.status_code, 403)
        self.assertEqual(
            response.json()["detail"],
            "Workflow 'Provision' is managed by Git repository 'Definitions'; "
            "change jobflow/workflows/provision.yaml there.",
        )

    def test_an_edited_file_updates_only_what_changed(self):
        repository = create_repository("Definitions", self.local)
        path = "jobflow/workflows/deploy.yaml"
        self.local.write(path, workflow_yaml("Deploy", {"a": "jobflow_test_jobs.Echo", "b": "jobflow_test_jobs.Noop"}))
        self.local.commit()
        self.assertSynced(sync(repository))
        before = {step.name: step.pk for step in WorkflowStep.objects.filter(workflow__name="Deploy")}
        changes = definition_changes().count()

        self.local.write(
            path,
            workflow_yaml(
                "Deploy",
                {
                    "a": {"job": "jobflow_test_jobs.Echo", "timeout": 30},
                    "b": "jobflow_test_jobs.Noop",
                    "c": "jobflow_test_jobs.Noop",
                },
                edges=[("a", "c")],
            ),
        )
        self.local.commit("a times out, c follows a")
        job_result = sync(repository)
        self.assertSynced(job_result)
        self.assertIn(f"{path}: Updated workflow 'Deploy'.", log_lines(job_result))
        steps = {step.name: step for step in WorkflowStep.objects.filter(workflow__name="Deploy")}
        self.assertEqual(steps["a"].timeout, 30)
        self.assertEqual((steps["a"].pk, steps["b"].pk), (before["a"], before["b"]), "steps are updated, not replaced")
        new = definition_changes().order_by("time")[changes:]
        self.assertEqual(
            sorted((change.changed_object_type.model, change.action, change.object_repr) for change in new),
            [
                ("workflowedge", "create", "a → c (On success)"),
                ("workflowstep", "create", "Deploy: c"),
                ("workflowstep", "update", "Deploy: a"),
            ],
        )

    def test_a_removed_file_deletes_only_that_repositorys_objects(self):
        other_local = self.new_local()
        mine = create_repository("Mine", self.local)
        other = create_repository("Other", other_local)
        create_workflow("Made in Nautobot", steps=("a",))
        self.local.write("jobflow/workflows/one.yaml", workflow_yaml("One", {"a": "jobflow_test_jobs.Echo"}))
        self.local.write("jobflow/workflows/two.yaml", workflow_yaml("Two", {"a": "jobflow_test_jobs.Echo"}))
        self.local.write("jobflow/workflows/four.yaml", workflow_yaml("Four", {"a": "jobflow_test_jobs.Echo"}))
        self.local.write("jobflow/hook_rules/two.yaml", HOOK_RULE.replace("Notify", "Two"))
        self.local.commit()
        other_local.write("jobflow/workflows/three.yaml", workflow_yaml("Three", {"a": "jobflow_test_jobs.Echo"}))
        other_local.commit()
        self.assertSynced(sync(mine))
        self.assertSynced(sync(other))
        made_here = Workflow.objects.get(name="Made in Nautobot")
        WorkflowStep.objects.create(workflow=made_here, name="nested", subworkflow=Workflow.objects.get(name="One"))

        # The workflow and the rule that runs it leave in one commit: the rule goes first, then the workflow.
        # One, still nested by a workflow made in Nautobot, is kept and the log says why.
        self.local.remove("jobflow/workflows/one.yaml")
        self.local.remove("jobflow/workflows/two.yaml")
        self.local.remove("jobflow/hook_rules/two.yaml")
        self.local.commit("no more one and two")
        job_result = sync(mine)
        self.assertSynced(job_result)
        self.assertEqual(
            sorted(Workflow.objects.values_list("name", flat=True)), ["Four", "Made in Nautobot", "One", "Three"]
        )
        self.assertFalse(HookRule.objects.exists())
        lines = log_lines(job_result, LogLevelChoices.LOG_WARNING)
        self.assertIn("Deleted hook rule 'Two new devices': no file of the repository defines it any more.", lines)
        self.assertIn("Deleted workflow 'Two': no file of the repository defines it any more.", lines)
        self.assertEqual(
            log_lines(job_result, LogLevelChoices.LOG_FAILURE),
            [
                "Kept workflow 'One' (no file of the repository defines it any more): it is still used by workflow "
                "step 'Made in Nautobot: nested'."
            ],
        )

        # Deleting the repository deletes what it owns (Four), and only that; what it cannot delete stays, unowned.
        mine.delete()
        self.assertEqual(sorted(Workflow.objects.values_list("name", flat=True)), ["Made in Nautobot", "One", "Three"])
        self.assertIsNone(Workflow.objects.get(name="One").git_repository)
        self.assertEqual(Workflow.objects.get(name="Three").git_repository, other)

    def test_bad_files_are_reported_with_path_and_field_and_the_good_ones_apply(self):
        repository = create_repository("Definitions", self.local)
        folder = "jobflow/workflows"
        self.local.write(f"{folder}/good.yaml", workflow_yaml("Good", {"a": "jobflow_test_jobs.Echo"}))
        self.local.write(f"{folder}/later-broken.yaml", workflow_yaml("Later broken", {"a": "jobflow_test_jobs.Echo"}))
        self.local.write(
            f"{folder}/cycle.yaml",
            workflow_yaml(
                "Cycle", {"a": "jobflow_test_jobs.Echo", "b": "jobflow_test_jobs.Echo"}, [("a", "b"), ("b", "a")]
            ),
        )
        self.local.write(
            f"{folder}/unknown-job.yaml",
            workflow_yaml("Unknown job", {"first": "jobflow_test_jobs.Echo", "second": "nowhere.Nothing"}),
        )
        self.local.write(f"{folder}/syntax.yaml", "name: Syntax\nsteps: [unclosed\n")
        self.local.write(f"{folder}/loop-a.yaml", workflow_yaml("Loop A", {"x": {"workflow": "Loop B"}}))
        self.local.write(f"{folder}/loop-b.yaml", workflow_yaml("Loop B", {"y": {"workflow": "Loop A"}}))
        self.local.commit()
        job_result = sync(repository)

        self.assertSynced(job_result)
        self.assertEqual(sorted(Workflow.objects.values_list("name", flat=True)), ["Good", "Later broken"])
        self.assertFalse(WorkflowStep.objects.filter(name="first").exists(), "nothing half-applied stays")
        failures = log_lines(job_result, LogLevelChoices.LOG_FAILURE)
        self.assertEqual(len(failures), 5, failures)
        loops = [line for line in failures if "the files' workflows nest in a loop: Loop" in line]
        self.assertEqual(
            sorted(line.split(":")[0] for line in loops), [f"{folder}/loop-a.yaml", f"{folder}/loop-b.yaml"]
        )
        self.assertIn(
            "jobflow/workflows/cycle.yaml: edges: The edges form a cycle: a → b → a. Nothing of this file was applied.",
            failures,
        )
        self.assertIn(
            "jobflow/workflows/unknown-job.yaml: step 'second': job: no installed Job with class path "
            "'nowhere.Nothing'. Nothing of this file was applied.",
            failures,
        )
        syntax = next(
            line for line in failures if line.startswith("jobflow/workflows/syntax.yaml: YAML: cannot be parsed")
        )
        self.assertIn("line 2", syntax)
        self.assertIn("2 file(s) applied, 5 refused (see the failure lines).", log_lines(job_result))

        # A file that breaks later is refused and its workflow stays as it was (neither changed nor deleted).
        self.local.write(
            f"{folder}/later-broken.yaml",
            workflow_yaml(
                "Later broken", {"a": "jobflow_test_jobs.Echo", "b": "jobflow_test_jobs.Echo"}, [("a", "b"), ("b", "a")]
            ),
        )
        self.local.commit()
        job_result = sync(repository)
        self.assertSynced(job_result)
        self.assertEqual(list(Workflow.objects.get(name="Later broken").steps.values_list("name", flat=True)), ["a"])
        self.assertTrue(
            any(line.startswith("jobflow/workflows/later-broken.yaml: edges:") for line in log_lines(job_result))
        )

    def test_two_repositories_cannot_own_one_name(self):
        other_local = self.new_local()
        first = create_repository("First", self.local)
        second = create_repository("Second", other_local)
        create_workflow("Made in Nautobot", steps=("a",))
        self.local.write("jobflow/workflows/shared.yaml", workflow_yaml("Shared", {"a": "jobflow_test_jobs.Echo"}))
        self.local.commit()
        other_local.write("jobflow/workflows/shared.yaml", workflow_yaml("Shared", {"b": "jobflow_test_jobs.Noop"}))
        other_local.write(
            "jobflow/workflows/local.yaml", workflow_yaml("Made in Nautobot", {"b": "jobflow_test_jobs.Noop"})
        )
        other_local.commit()
        self.assertSynced(sync(first))
        job_result = sync(second)

        self.assertSynced(job_result)
        shared = Workflow.objects.get(name="Shared")
        self.assertEqual(shared.git_repository, first)
        self.assertEqual(list(shared.steps.values_list("name", flat=True)), ["a"])
        self.assertIsNone(Workflow.objects.get(name="Made in Nautobot").git_repository)
        self.assertEqual(
            log_lines(job_result, LogLevelChoices.LOG_FAILURE),
            [
                "jobflow/workflows/local.yaml: name: A workflow named 'Made in Nautobot' already exists in Nautobot "
                "and is not managed by this repository; rename one of them, or delete the one in Nautobot, then "
                "sync again. Nothing of this file was applied.",
                "jobflow/workflows/shared.yaml: name: The workflow 'Shared' is already managed by Git repository "
                "'First' (jobflow/workflows/shared.yaml); two repositories cannot own one name. Nothing of this file "
                "was applied.",
            ],
        )

    def test_rules_and_policies_need_the_syncing_users_run_permission(self):
        make_definition((make_group("approvers", make_user()), 1), name="Two eyes")
        limited = make_user("limited", run_jobs=[get_test_job("Echo")])
        repository = create_repository("Definitions", self.local)
        rule = (
            "name: {name}\nevent_source: object-change\ncontent_types: [dcim.device]\ntype_update: true\njob: {job}\n"
        )
        policy = "name: {name}\njobs: [{job}]\napproval_workflow_definition: Two eyes\n"
        for name, job in (("allowed", "jobflow_test_jobs.Echo"), ("forbidden", "jobflow_test_jobs.Noop")):
            self.local.write(f"jobflow/hook_rules/{name}.yaml", rule.format(name=f"Rule {name}", job=job))
            self.local.write(f"jobflow/approval_policies/{name}.yaml", policy.format(name=f"Policy {name}", job=job))
        self.local.commit()
        job_result = sync(repository, username=limited.username)

        self.assertSynced(job_result)
        self.assertEqual(list(HookRule.objects.values_list("name", "owner__username")), [("Rule allowed", "limited")])
        self.assertEqual(list(ApprovalPolicy.objects.values_list("name", flat=True)), ["Policy allowed"])
        self.assertEqual(
            log_lines(job_result, LogLevelChoices.LOG_FAILURE),
            [
                "jobflow/hook_rules/forbidden.yaml: job: You may not save a rule that runs this target: User "
                "'limited' may not run Job 'No-op'. Nothing of this file was applied.",
                "jobflow/approval_policies/forbidden.yaml: jobs: the syncing user may not run what this policy "
                "covers: User 'limited' may not run Job 'No-op'. Nothing of this file was applied.",
            ],
        )
