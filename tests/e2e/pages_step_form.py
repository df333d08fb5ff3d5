"""Page helpers for the step form: a Job's variables as fields, each with its "Template" switch.

Kept apart from ``pages.py`` (which it builds on) so that neither module grows past a readable size.
"""

from playwright.sync_api import expect

from tests.e2e.pages import choose, panel, submit_form


class StepForm:
    """The add/edit form of a workflow step, with the chosen Job's inputs panel."""

    def __init__(self, browser):
        """On ``browser`` (the form is open)."""
        self.browser = browser
        self.page = browser.page

    @classmethod
    def add(cls, workflow_page, name, job):
        """From a workflow's page: "Add workflow step", a name, a Job; waits until the Job's fields are shown."""
        page = workflow_page.browser.page
        page.get_by_role("link", name="Add workflow step").click()
        page.wait_for_load_state("load")
        workflow_page.browser.check_page()
        form = cls(workflow_page.browser)
        page.locator("#id_name").fill(name)
        form.choose_job(job)
        return form

    @classmethod
    def edit(cls, workflow_page, step_name):
        """From a workflow's page: the step row's actions menu, then Edit (core moves the open menu to the end)."""
        page = workflow_page.browser.page
        row = panel(workflow_page.browser, "Steps").locator("tr", has=page.get_by_text(step_name, exact=True))
        row.locator(".dropdown-toggle").click()
        page.locator(".dropdown-menu.show a.dropdown-item[href*='/workflow-steps/'][href*='/edit/']").click()
        page.wait_for_load_state("load")
        workflow_page.browser.check_page()
        return cls(workflow_page.browser)

    def choose_job(self, job):
        """Pick the Job; its variables' fields are fetched and shown in the inputs panel."""
        choose(self.browser, "job", job)
        expect(self.page.locator("[data-jobflow-input-fields]")).not_to_contain_text("Choose a Job")

    def row(self, name):
        """The row of one input (label, widget or template, switch, help text, errors)."""
        return self.page.locator(f"[data-jobflow-input='{name}']")

    def value_field(self, name):
        """The input's own widget (the select2 picker's select, an input, a checkbox)."""
        return self.page.locator(f"[name='input__{name}']")

    def pick(self, name, text):
        """Choose ``text`` in an input's object picker (select2, as Nautobot's own forms)."""
        choose(self.browser, f"input__{name}", text)

    def picked(self, name):
        """What an input's picker shows (the names of the chosen objects)."""
        rendered = self.page.locator(f"select[name='input__{name}'] + .select2 .select2-selection__rendered")
        return rendered.inner_text()

    def switch(self, name):
        """An input's "Template" switch."""
        return self.page.locator(f"#id_input__{name}__use_template")

    def template_field(self, name):
        """An input's template text field."""
        return self.page.locator(f"textarea[name='input__{name}__template']")

    def use_template(self, name, text):
        """Switch an input to a template and type ``text``."""
        self.switch(name).check()
        expect(self.template_field(name)).to_be_visible()
        self.template_field(name).fill(text)

    def open_json(self):
        """Open the "Advanced: input templates as JSON" section; returns its textarea."""
        textarea = self.page.locator("textarea[name='input_templates']")
        if not textarea.is_visible():
            self.page.locator("[data-jobflow-advanced-toggle='input_templates']").click()
        expect(textarea).to_be_visible()
        return textarea

    def errors(self, name):
        """The error lines of one input's row."""
        return self.row(name).locator(".text-danger")

    def save(self, button="Create"):
        """Submit (the form returns to the workflow's page)."""
        submit_form(self.browser, button)
