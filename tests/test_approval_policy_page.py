"""The approval policy page lists the policy's Workflows and Jobs as links, or says that it covers every one."""

from nautobot.apps.testing import TestCase

from tests.fixtures_approvals import make_definition, make_group, make_policy, make_user
from tests.fixtures_workflows import create_workflow


class ApprovalPolicyPageTest(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.workflow = create_workflow("policy-page-wf")
        definition = make_definition((make_group("policy-page-approvers", make_user()), 1))
        cls.policy = make_policy(definition, workflows=[cls.workflow], name="policy-page")

    def setUp(self):
        super().setUp()
        self.user.is_superuser = True
        self.user.save()

    def test_detail_shows_chosen_workflows_as_links_and_no_jobs_as_every_job(self):
        response = self.client.get(self.policy.get_absolute_url())
        self.assertEqual(response.status_code, 200)
        content = response.content.decode()
        self.assertIn(f'<a href="{self.workflow.get_absolute_url()}"', content)
        self.assertIn('<span class="text-muted">Every Job</span>', content)
        self.assertNotIn(".None", content)  # a related manager's str(), e.g. "extras.Job.None"
