"""Page helpers for the browser tests: what a user does on a page, as methods, and what they see, as locators.

Each helper wraps a :class:`Browser` (a Playwright page plus the checks every navigation gets) and does things the
way a person would: follow links and buttons, type into fields, pick from Nautobot's select2 dropdowns. Assertions
about the outcome stay in the tests.

Sections: the site and the browser; Nautobot's own pages (login, forms, job results, devices); workflows and runs;
approval policies (core's definition form, the policy form, the request page, the side navigation). Hook rules add
their page objects in a section of their own at the end, built on the same pieces (``Browser.goto``, ``choose``,
``submit_form``, ``JobResultPage``).
"""

import json
import re
import time

from playwright.sync_api import expect

RUN_GRAPH_TIMEOUT_MS = 90_000
JOB_RESULT_TIMEOUT_MS = 90_000


#
# The site and the browser
#


def is_core_tab_collapse_error(error):
    """Nautobot core's known tab-collapsing error, which the browser tests record but do not fail on.

    Core's ``collapseTabs`` (nautobot/ui/src/js/tabs.js, bundled in static/dist/js/nautobot.js) runs from a
    ResizeObserver and moves tabs into a dropdown while a hidden copy of the tab bar is wider than the original. When
    the original measures narrower than the dropdown toggle alone (seen now and then on the run page, which reloads
    itself every few seconds), the loop runs out of tabs and calls ``removeChild(null)``. The tabs still work. Only
    this exact error, thrown from that bundle inside a ResizeObserver callback, is let through.
    """
    stack = getattr(error, "stack", None) or ""
    return (
        "Failed to execute 'removeChild' on 'Node'" in str(error)
        and "/static/dist/js/nautobot.js" in stack
        and "ResizeObserver" in stack
    )


class Site:
    """Where the live server answers."""

    def __init__(self, base_url):
        """``base_url``: scheme, host and port of the live server."""
        self.base_url = base_url.rstrip("/")

    def url(self, path):
        """Absolute URL of a path on the server."""
        return self.base_url + path


class Browser:
    """A Playwright page on the site, recording failed static files and JavaScript errors on every page."""

    def __init__(self, page, site):
        """Start recording on ``page``."""
        self.page = page
        self.site = site
        self.failed_static = []
        self.script_errors = []
        self.core_tab_errors = []
        page.on("response", self._record_response)
        page.on("pageerror", self._record_script_error)

    def _record_response(self, response):
        if "/static/" in response.url and response.status >= 400:
            self.failed_static.append(f"{response.status} {response.url}")

    def _record_script_error(self, error):
        if is_core_tab_collapse_error(error):
            self.core_tab_errors.append(str(error))
        else:
            self.script_errors.append(str(error))

    def goto(self, path):
        """Open a path of the site and check that it answered 200 and that the page loaded cleanly."""
        response = self.page.goto(self.site.url(path))
        assert response is not None and response.status == 200, f"{path} answered {response and response.status}"
        self.check_page()
        return self

    def check_page(self):
        """Every static file of every page so far was served and no script failed."""
        self.page.wait_for_load_state("load")
        assert not self.failed_static, f"static files failed to load: {self.failed_static}"
        assert not self.script_errors, f"JavaScript errors: {self.script_errors}"

    def path(self):
        """The path of the current URL."""
        return re.sub(r"^https?://[^/]+", "", self.page.url).split("?")[0]

    def heading(self):
        """The page's title (the visible h1; dialogs carry hidden ones)."""
        return self.page.locator("h1:visible").first

    def messages(self):
        """The text of Nautobot's flash messages on the page."""
        return self.page.locator(".toast-body, .alert").all_inner_texts()


def _cell_text(row):
    """The value cell of a detail panel row, without the hover "Copy" button's label."""
    return row.first.locator("td").nth(1).inner_text().split("\n")[0].strip()


def panel(browser, title):
    """The card (panel) whose header reads ``title`` (in any case: core upper-cases some panel titles)."""
    page = browser.page
    header = re.compile(rf"^{re.escape(title)}$", re.IGNORECASE)
    return page.locator(".card").filter(has=page.locator(".card-header strong", has_text=header))


def choose(browser, field_name, text, search_text=None):
    """Pick the option ``text`` in the select2 dropdown of form field ``field_name``.

    As a user does: open it, type ``search_text`` (default: ``text``) to filter it, click the option.
    """
    page = browser.page
    page.locator(f"select[name='{field_name}'] + .select2 .select2-selection").click()
    search = page.locator(".select2-container--open .select2-search__field")
    if search.count():
        search.fill(text if search_text is None else search_text)
    option = page.locator(
        ".select2-container--open .select2-results__option", has_text=re.compile(rf"^{re.escape(text)}$")
    )
    option.first.click()
    expect(page.locator(f"select[name='{field_name}'] + .select2 .select2-selection__rendered")).to_contain_text(text)


def fill_json(browser, field_name, value):
    """Replace the text of a JSON textarea with ``value`` as pretty JSON."""
    fill_textarea(browser, field_name, json.dumps(value, indent=2))


def fill_textarea(browser, field_name, text):
    """Type ``text`` into a textarea, first opening its collapsed "Advanced: ... as JSON" section if it has one."""
    page = browser.page
    textarea = page.locator(f"textarea[name='{field_name}']")
    toggle = page.locator(f"[data-jobflow-advanced-toggle='{field_name}']")
    if toggle.count() and not textarea.is_visible():
        toggle.click()
        expect(textarea).to_be_visible()
    textarea.fill(text)


def submit_form(browser, button="Create"):
    """Press the form's submit button and wait for the next page; fails with the form's errors if it stays put."""
    page = browser.page
    before = page.url
    page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_load_state("load")
    errors = page.locator(".invalid-feedback, .errorlist, .alert-danger").all_inner_texts()
    assert page.url != before or not errors, f"the form was refused: {errors}"
    browser.check_page()


#
# Nautobot's own pages
#


class LoginPage:
    """Nautobot's login form."""

    def __init__(self, browser):
        """On ``browser``."""
        self.browser = browser

    def log_in(self, username, password):
        """Sign in and land on the home page, which greets the user by name in the top bar."""
        page = self.browser.page
        self.browser.goto("/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state("load")
        expect(page.locator("#header")).to_contain_text(username)
        self.browser.check_page()


class JobResultPage:
    """A JobResult's detail page."""

    def __init__(self, browser):
        """On ``browser`` (the page is already open)."""
        self.browser = browser

    def wait_until_done(self, timeout_ms=JOB_RESULT_TIMEOUT_MS):
        """Reload until the status is final; returns the status text ("Completed", "Failed", ...)."""
        page = self.browser.page
        final = ("Completed", "Failed", "Revoked")
        deadline = time.monotonic() + timeout_ms / 1000
        while self.status_text() not in final:
            assert time.monotonic() < deadline, f"JobResult still {self.status_text()!r}"
            page.wait_for_timeout(1000)
            page.reload()
            self.browser.check_page()
        return self.status_text()

    def status_text(self):
        """The Status row of the summary panel."""
        return self.field("Status")

    def field(self, label):
        """The value next to ``label`` in the summary panel."""
        page = self.browser.page
        return _cell_text(page.locator("tr", has=page.locator("td", has_text=re.compile(rf"^{label}$"))))

    def logs(self):
        """The Logs panel (a locator: its text holds every log message)."""
        return panel(self.browser, "Logs")


class DevicePage:
    """A Device's detail page."""

    def __init__(self, browser, device):
        """Open the page of ``device``."""
        self.browser = browser
        self.device = device
        browser.goto(device.get_absolute_url())

    def press_job_button(self, text):
        """Click the job button labelled ``text``, confirm in its dialog, land back on this page."""
        page = self.browser.page
        page.get_by_role("button", name=text).click()
        dialog = page.locator(".modal.show")
        expect(dialog).to_contain_text(str(self.device))
        dialog.get_by_role("button", name="Confirm").click()
        page.wait_for_load_state("load")
        self.browser.check_page()

    def open_enqueued_result(self):
        """Follow the "Click here for the results" link of the "Job enqueued" message."""
        page = self.browser.page
        page.get_by_role("link", name="Click here for the results").click()
        page.wait_for_load_state("load")
        self.browser.check_page()
        return JobResultPage(self.browser)


#
# Workflows and runs
#

WORKFLOWS = "/plugins/jobflow/workflows/"


class WorkflowPage:
    """A workflow's detail page and the step, edge and run forms reached from it."""

    def __init__(self, browser, name):
        """For the workflow called ``name`` (open it with :meth:`create` or :meth:`open`)."""
        self.browser = browser
        self.name = name

    @classmethod
    def create(cls, browser, name, description="", input_schema=None):
        """Fill in the "Add a new workflow" form and land on the new workflow's page."""
        browser.goto(WORKFLOWS + "add/")
        page = browser.page
        page.locator("#id_name").fill(name)
        page.locator("#id_description").fill(description)
        if input_schema is not None:
            fill_json(browser, "input_schema", input_schema)
        submit_form(browser, "Create")
        workflow_page = cls(browser, name)
        expect(browser.heading()).to_contain_text(name)
        return workflow_page

    def open(self):
        """Open the workflow from the workflow list, by its link."""
        self.browser.goto(WORKFLOWS)
        self.browser.page.get_by_role("link", name=self.name, exact=True).click()
        self.browser.page.wait_for_load_state("load")
        return self

    def panel(self, title):
        """A panel of the page by its title."""
        return panel(self.browser, title)

    def add_step(self, name, job, input_templates=None):
        """Use the Steps panel's "Add workflow step" button; the form returns to the workflow page."""
        page = self.browser.page
        page.get_by_role("link", name="Add workflow step").click()
        page.wait_for_load_state("load")
        expect(page.locator("select[name='workflow'] + .select2")).to_contain_text(self.name)
        page.locator("#id_name").fill(name)
        choose(self.browser, "job", job)
        if input_templates:
            fill_json(self.browser, "input_templates", input_templates)
        submit_form(self.browser, "Create")
        expect(self.browser.heading()).to_contain_text(self.name)

    def add_edge(self, source, target, trigger="On success", condition=""):
        """Use the Edges panel's "Add workflow edge" button; the form returns to the workflow page."""
        page = self.browser.page
        page.get_by_role("link", name="Add workflow edge").click()
        page.wait_for_load_state("load")
        # The step search matches step names; the options read "<workflow>: <step>".
        choose(self.browser, "source", f"{self.name}: {source}", search_text=source)
        choose(self.browser, "target", f"{self.name}: {target}", search_text=target)
        page.locator("select[name='trigger']").select_option(label=trigger)
        if condition:
            page.locator("#id_condition").fill(condition)
        submit_form(self.browser, "Create")
        expect(self.browser.heading()).to_contain_text(self.name)

    def graph_nodes(self):
        """The step boxes of the SVG graph."""
        return self.browser.page.locator("svg#jobflow-graph g.jobflow-node")

    def graph_edges(self):
        """The arrows of the SVG graph."""
        return self.browser.page.locator("svg#jobflow-graph g.jobflow-edge")

    def run(self, inputs=None, dryrun=False):
        """Press "Run", fill the generated inputs form, press "Run workflow"; returns the run's page."""
        page = self.browser.page
        page.get_by_role("link", name="Run", exact=True).click()
        page.wait_for_load_state("load")
        expect(page.locator("#jobflow-run-form")).to_contain_text(f"Run {self.name}")
        for key, value in (inputs or {}).items():
            page.locator(f"[name='input_{key}']").fill(str(value))
        if dryrun:
            page.locator("#id_dryrun").check()
        page.get_by_role("button", name="Run workflow").click()
        page.wait_for_load_state("load")
        self.browser.check_page()
        return RunPage(self.browser)


class RunPage:
    """A workflow run's detail page: fields, the graph coloured by step status (reloading itself while active)."""

    def __init__(self, browser):
        """On ``browser`` (the run page is open)."""
        self.browser = browser

    def node(self, step):
        """The graph box of one step."""
        return self.browser.page.locator(f"svg#jobflow-graph g.jobflow-node[data-step='{step}']")

    def wait_for_statuses(self, statuses, timeout_ms=RUN_GRAPH_TIMEOUT_MS):
        """Wait while the page refreshes itself until every step's node shows its expected status."""
        for step, status in statuses.items():
            expect(self.node(step)).to_have_attribute("data-status", status, timeout=timeout_ms)

    def node_fill(self, step):
        """The fill colour of a step's box."""
        return self.node(step).locator("rect").get_attribute("fill")

    def field(self, label):
        """A value of the run's fields panel."""
        page = self.browser.page
        row = page.locator("tr", has=page.locator("td", has_text=re.compile(rf"^{label}$")))
        return _cell_text(row)

    def is_refreshing(self):
        """True while the page carries its reload script (only for active runs)."""
        return self.browser.page.locator("#jobflow-refresh").count() > 0

    def open_step_result(self, step):
        """Click a step's node; it links to the step's JobResult."""
        page = self.browser.page
        page.locator(f"svg#jobflow-graph a:has(g.jobflow-node[data-step='{step}'])").click()
        page.wait_for_load_state("load")
        self.browser.check_page()
        return JobResultPage(self.browser)


#
# Approval policies: core's approval workflow definition form, the policy form, the request page, the nav menu
#

APPROVAL_WORKFLOW_DEFINITIONS = "/extras/approval-workflow-definitions/"


def open_nav_item(browser, tab, item):
    """Open ``item`` from the side navigation: click the ``tab`` button, then the link in its flyout."""
    page = browser.page
    page.locator(f"#sidenav li[data-section-name='{tab}'] > button").click()
    flyout = page.locator(f"#sidenav li[data-section-name='{tab}'] .nb-sidenav-flyout")
    flyout.locator("a.nb-sidenav-link", has_text=re.compile(rf"^\s*{re.escape(item)}\s*$")).click()
    page.wait_for_load_state("load")
    browser.check_page()


def select_option(browser, field_name, label):
    """Pick ``label`` in a plain or select2-wrapped static select of form field ``field_name``."""
    if browser.page.locator(f"select[name='{field_name}'] + .select2").count():
        choose(browser, field_name, label)
    else:
        browser.page.locator(f"select[name='{field_name}']").select_option(label=label)


class ApprovalDefinitionForm:
    """Core's "Add a new approval workflow definition" form with its inline stage rows."""

    def __init__(self, browser):
        """Open the form on ``browser``."""
        self.browser = browser
        browser.goto(APPROVAL_WORKFLOW_DEFINITIONS + "add/")

    def create(self, name, model, stages):
        """Fill in the definition and ``stages`` ((name, group name, minimum approvers) in order); submit."""
        page = self.browser.page
        page.locator("#id_name").fill(name)
        select_option(self.browser, "model_content_type", model)
        rows = page.locator("#approval-workflow-stages tr[class^='formset_row']")
        for index, (stage_name, group, minimum) in enumerate(stages):
            row = rows.nth(index)
            row.locator("input[name$='-name']").fill(stage_name)
            row.locator("input[name$='-sequence']").fill(str(index + 1))
            row.locator("input[name$='-min_approvers']").fill(str(minimum))
            row.locator("select[name$='-approver_group']").select_option(label=group)
        submit_form(self.browser, "Create")
        expect(self.browser.heading()).to_contain_text(name)


class ApprovalPolicyForm:
    """The app's "Add a new approval policy" form, reached from the navigation's add button."""

    def __init__(self, browser):
        """Open the form through the "Approval Policies" nav entry and the list's Add button."""
        self.browser = browser
        open_nav_item(browser, "Jobflow", "Approval Policies")
        page = browser.page
        expect(browser.heading()).to_contain_text("Approval Policies")
        page.locator("#add-button").click()
        page.wait_for_load_state("load")
        browser.check_page()

    def create(self, name, definition, applies_to="Workflows", workflows=(), origins=()):
        """Fill in what the policy covers and who approves; submit and land on the policy's page."""
        page = self.browser.page
        page.locator("#id_name").fill(name)
        select_option(self.browser, "applies_to", applies_to)
        for workflow in workflows:
            choose(self.browser, "workflows", workflow)
        for origin in origins:
            choose(self.browser, "origins", origin)
        choose(self.browser, "approval_workflow_definition", definition)
        submit_form(self.browser, "Create")
        expect(self.browser.heading()).to_contain_text(name)


class LaunchRequestPage:
    """A launch request's page: its fields, core's stages, the dry-run preview and the decision buttons."""

    def __init__(self, browser):
        """On ``browser`` (the request page is open)."""
        self.browser = browser

    def field(self, label):
        """A value of the request's fields panel."""
        page = self.browser.page
        return _cell_text(page.locator("tr", has=page.locator("td", has_text=re.compile(rf"^{label}$"))))

    def stages(self):
        """The table of core's approval stages."""
        return self.browser.page.locator("#jobflow-stages")

    def preview(self):
        """The preview section (log lines of the dry run, or the note that there is none)."""
        return self.browser.page.locator("#jobflow-preview")

    def wait_for_preview_line(self, text, timeout_ms=JOB_RESULT_TIMEOUT_MS):
        """Reload (as an approver would) until the preview's log shows ``text``."""
        page = self.browser.page
        deadline = time.monotonic() + timeout_ms / 1000
        while text not in self.preview().inner_text():
            assert time.monotonic() < deadline, f"the preview never showed {text!r}: {self.preview().inner_text()}"
            page.wait_for_timeout(1000)
            page.reload()
            self.browser.check_page()

    def decide(self, button, comments=""):
        """Press Approve, Deny, Comment or Withdraw (with ``comments``) and land back on this page."""
        page = self.browser.page
        if comments:
            page.locator("#jobflow-decision-form textarea[name='comments']").fill(comments)
        page.locator("#jobflow-decision-form").get_by_role("button", name=button, exact=True).click()
        page.wait_for_load_state("load")
        self.browser.check_page()

    def open_link(self, label):
        """Follow the link in the fields panel row ``label`` (the held workflow run, the JobResult, ...)."""
        page = self.browser.page
        page.locator("tr", has=page.locator("td", has_text=re.compile(rf"^{label}$"))).locator("a").first.click()
        page.wait_for_load_state("load")
        self.browser.check_page()


#
# Hook rules: the rule form, the rule's page with its firings, the rule tester, a device's edit form
#

FIRINGS_TIMEOUT_MS = 90_000


def follow(browser, locator):
    """Click a link or button that loads a page, and check the page that loads."""
    locator.click()
    browser.page.wait_for_load_state("load")
    browser.check_page()


def field_value(browser, label):
    """The value next to ``label`` in any fields panel of the page."""
    page = browser.page
    return _cell_text(page.locator("tr", has=page.locator("td", has_text=re.compile(rf"^{label}$"))))


def _json_cell(value):
    return value if isinstance(value, str) else json.dumps(value, indent=2)


class HookRuleForm:
    """The app's "Add a new hook rule" form, reached from the navigation's Hook Rules list and its Add button."""

    def __init__(self, browser):
        """Open the Hook Rules list through the Jobflow menu, then its Add button."""
        self.browser = browser
        open_nav_item(browser, "Jobflow", "Hook Rules")
        expect(browser.heading()).to_contain_text("Hook Rules")
        follow(browser, browser.page.locator("#add-button"))
        expect(browser.heading()).to_contain_text("hook rule")

    def fill(self, name, object_types, actions, job, conditions=None, input_template=None, debounce_seconds=0):
        """Type the rule in: what it watches (types and actions), when (JSON conditions), what it runs and with."""
        page = self.browser.page
        page.locator("#id_name").fill(name)
        for object_type in object_types:
            choose(self.browser, "content_types", object_type)
        for action in ("create", "update", "delete"):
            page.locator(f"#id_type_{action}").set_checked(action in actions)
        if conditions is not None:
            page.locator("textarea[name='conditions']").fill(_json_cell(conditions))
        choose(self.browser, "job", job)
        if input_template is not None:
            fill_textarea(self.browser, "input_template", _json_cell(input_template))
        page.locator("#id_debounce_seconds").fill(str(debounce_seconds))

    def create(self):
        """Press Create and land on the new rule's page."""
        name = self.browser.page.locator("#id_name").input_value()
        submit_form(self.browser, "Create")
        expect(self.browser.heading()).to_contain_text(name)
        return HookRulePage(self.browser)


class HookRulePage:
    """A hook rule's page: its definition, the "Recent firings" table, the "Test rule" button."""

    def __init__(self, browser):
        """On ``browser`` (the rule's page is open)."""
        self.browser = browser

    def field(self, label):
        """A value of the rule's panels."""
        return field_value(self.browser, label)

    def firings_panel(self):
        """The "Recent firings" panel."""
        return panel(self.browser, "Recent firings")

    def firing_rows(self):
        """One table row per firing (the empty table's placeholder row has no status badge)."""
        return self.firings_panel().locator("table tbody tr", has=self.browser.page.locator(".badge"))

    def wait_for_firings(self, count, timeout_ms=FIRINGS_TIMEOUT_MS):
        """Reload (as a person watching the rule would) until the table shows ``count`` firings; returns the rows.

        Each look is Playwright's own ``expect`` with a short timeout; the worker records a firing a moment after
        the change that caused it, and the table does not refresh itself.
        """
        page = self.browser.page
        deadline = time.monotonic() + timeout_ms / 1000
        while True:
            try:
                expect(self.firing_rows()).to_have_count(count, timeout=2_000)
                return self.firing_rows()
            except AssertionError:
                if time.monotonic() >= deadline:
                    raise
            page.reload()
            self.browser.check_page()

    def open_firing_result(self, row):
        """Follow the firing's link to the JobResult it started."""
        follow(self.browser, row.locator("a[href*='/extras/job-results/']"))
        return JobResultPage(self.browser)

    def open_tester(self):
        """Press the "Test rule" button."""
        follow(self.browser, self.browser.page.get_by_role("link", name="Test rule"))
        return HookRuleTesterPage(self.browser)


class HookRuleTesterPage:
    """The rule tester: recent changes of the watched types, a form for one of them, and the verdict."""

    def __init__(self, browser):
        """On ``browser`` (the tester is open)."""
        self.browser = browser

    def recent_changes(self):
        """The rows of the "Recent changes of the watched types" table (newest first)."""
        return self.browser.page.locator("#jobflow-hook-test-recent tr", has=self.browser.page.locator("td"))

    def test_recorded_change(self, row):
        """Copy the change ID shown in ``row`` into the form and press Test."""
        page = self.browser.page
        change_id = row.locator("td code").inner_text().strip()
        page.locator("#id_object_change").fill(change_id)
        follow(self.browser, page.locator("#jobflow-hook-test-form").get_by_role("button", name="Test", exact=True))
        return change_id

    def verdict(self):
        """The verdict card (badge, conditions table, rendered inputs)."""
        return self.browser.page.locator("#jobflow-hook-test-verdict")

    def rendered_inputs(self):
        """The rendered inputs, parsed from the verdict's JSON."""
        return json.loads(self.verdict().locator("pre").inner_text())


class DeviceEditForm:
    """Core's device edit form, reached from the device's page by its Edit button."""

    def __init__(self, browser, device):
        """Open the device's page and press Edit."""
        self.browser = browser
        self.device = device
        DevicePage(browser, device)
        follow(browser, browser.page.locator("#edit-button"))
        expect(browser.page.locator("#id_name")).to_have_value(device.name)

    def fill(self, **fields):
        """Type new values into text fields by name (``serial="A1"``)."""
        for name, value in fields.items():
            self.browser.page.locator(f"#id_{name}").fill(str(value))

    def save(self):
        """Press Update and land back on the device's page."""
        submit_form(self.browser, "Update")
        assert self.browser.path() == self.device.get_absolute_url(), self.browser.path()
        expect(self.browser.heading()).to_contain_text(self.device.name)
