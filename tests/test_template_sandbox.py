"""The Jinja2 sandbox against known escapes and amplification bombs; every attempt is refused with a TemplateProblem."""

import json

from django.contrib.auth import get_user_model
from nautobot.apps.testing import TestCase

from nautobot_jobflow.lib.sandbox import TemplateProblem, evaluate_condition, render_value

CONTEXT = {"inputs": {"site": "AMS", "n": 3}, "steps": {"a": {"status": "succeeded", "result": {"ids": [1, 2]}}}}

ESCAPES = (
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ self.__init__.__globals__ }}",
    "{{ inputs.__class__.__init__.__globals__ }}",
    "{{ inputs.items.__self__ }}",
    "{{ '{0.__class__.__base__.__subclasses__}'.format(inputs) }}",
    "{{ '{0.__class__}'.format_map({'0': inputs}) }}",
    "{{ '%s' % inputs.__class__ }}",
    "{{ (inputs|attr('__class__')) }}",
    "{% set x = inputs.update({'site': 'x'}) %}{{ x }}",
    "{{ steps.a.result.ids.append(3) }}",
    "{{ config }}{{ request }}{{ settings }}",
)

BOMBS = (
    "{{ range(10**9) | list | length }}",
    "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
    "{{ 'x' * 10**9 }}",
    "{{ [0] * 10**9 }}",
    "{{ 2 ** (10**9) }}",
    "{{ '%999999999s' % 'x' }}",
    "{{ '%*s' % (999999999, 'x') }}",
    "{{ '{:>999999999}'.format('x') }}",
    "{{ '{:>{w}}'.format('x', w=999999999) }}",
    "{{ 'x'.ljust(999999999) }}",
    "{{ 'x'.zfill(999999999) }}",
    "{{ 'a\tb'.expandtabs(999999999) }}",
    "{{ 'x' | center(999999999) }}",
    "{{ 'x\ny' | indent(999999999) }}",
    "{{ [1] | batch(999999999, 0) | list }}",
    "{{ [1] | slice(999999999) | list }}",
    "{{ '%999999999s' | format('x') }}",
    "{{ ('x' * 5000) | replace('x', 'y' * 5000) }}",
    "{{ ('x' * 5000).replace('x', 'y' * 5000) }}",
    "{% for i in range(10000) %}{{ 'x' * 200 }}{% endfor %}",
)


class TemplateSandboxTest(TestCase):
    """Known escape attempts and resource bombs, in inputs and in conditions; ordinary templates still work."""

    def assert_refused(self, attempt, context=CONTEXT):
        with self.subTest(attempt=attempt), self.assertRaises(TemplateProblem):
            render_value(attempt, context, "t")

    def test_escape_attempts_are_refused(self):
        for attempt in ESCAPES:
            self.assert_refused(attempt)

    def test_escape_attempts_in_conditions_are_refused(self):
        for attempt in ("''.__class__.__mro__", "cycler.__init__.__globals__", "self._TemplateReference__context"):
            with self.subTest(attempt=attempt), self.assertRaises(TemplateProblem):
                evaluate_condition(attempt, CONTEXT)

    def test_bombs_are_refused_before_they_allocate(self):
        for attempt in BOMBS:
            self.assert_refused(attempt)

    def test_messages_say_why(self):
        with self.assertRaisesRegex(TemplateProblem, "refused by the sandbox: access to attribute '__class__'"):
            render_value("{{ ''.__class__ }}", CONTEXT, "t")
        with self.assertRaisesRegex(TemplateProblem, "repetition would make 1,000,000,000 items"):
            render_value("{{ 'x' * 10**9 }}", CONTEXT, "t")
        with self.assertRaisesRegex(TemplateProblem, "rendered over 1,000,000 characters"):
            render_value("{% for i in range(10000) %}{{ 'x' * 200 }}{% endfor %}", CONTEXT, "t")
        with self.assertRaisesRegex(TemplateProblem, "at most 100,000 range"):
            render_value("{% for i in range(100) %}{% for j in range(10000) %}{% endfor %}{% endfor %}", CONTEXT, "t")

    def test_ordinary_templates_still_work(self):
        cases = {
            "{{ '%05d' % inputs.n }}": "00003",
            "{{ '{:>6}|{:.1f}'.format(inputs.site, 1.25) }}": "   AMS|1.2",
            "{{ inputs.site | center(9) }}": "   AMS   ",
            "{{ [1, 2] * 2 }}": [1, 2, 1, 2],
            "{{ 2 ** 16 }}": 65536,
            "{{ 'a.b.c' | replace('.', '/') }}": "a/b/c",
            "{{ steps.a.result.ids | batch(1) | list }}": [[1], [2]],
            "{% for i in range(3) %}{{ i }}{% endfor %}": "012",
            "{{ 'ams'.ljust(5, '-') }}": "ams--",
        }
        for template, expected in cases.items():
            with self.subTest(template=template):
                self.assertEqual(render_value(template, CONTEXT, "t"), expected)

    def test_django_model_in_context_cannot_be_used_to_escape_or_change_data(self):
        """The engine's context is plain JSON; were a model instance ever in it, the sandbox still protects it."""
        user = get_user_model().objects.create(username="victim", is_superuser=False)
        context = {**CONTEXT, "obj": user}
        for attempt in (
            "{{ obj._meta }}",
            "{{ obj._meta.model.objects.all() }}",
            "{{ obj.objects.all() }}",
            "{{ obj.save() }}",
            "{{ obj.delete() }}",
            "{{ obj.__class__.objects.all() }}",
            "{{ obj._state }}",
        ):
            self.assert_refused(attempt, context)
        user.refresh_from_db()
        self.assertFalse(user.is_superuser)
        self.assertEqual(user.username, "victim")

    def test_engine_context_is_plain_data(self):
        """What the engine hands templates serialises as JSON: no model, manager or callable to reach through."""
        from nautobot_jobflow.engine.runner import RunState
        from nautobot_jobflow.models import WorkflowRun

        run = WorkflowRun(inputs={"site": "AMS"}, definition={"steps": {}, "edges": [], "order": []}, workflow_name="w")
        state = RunState.__new__(RunState)
        state.run, state.latest = run, {}
        self.assertEqual(json.loads(json.dumps(state.context()))["inputs"], {"site": "AMS"})
