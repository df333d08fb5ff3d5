"""Sandboxed templates: types kept, undefined names are errors, escapes refused, output capped."""

from django.test import SimpleTestCase

from nautobot_jobflow.lib.sandbox import TemplateProblem, evaluate_condition, render_mapping, render_value

CONTEXT = {"inputs": {"site": "AMS", "count": 3}, "steps": {"a": {"status": "succeeded", "result": {"ids": [1, 2]}}}}


class TemplateTest(SimpleTestCase):
    def test_single_expression_keeps_type(self):
        self.assertEqual(render_value("{{ inputs.count }}", CONTEXT, "x"), 3)
        self.assertEqual(render_value("{{ steps.a.result.ids }}", CONTEXT, "x"), [1, 2])
        self.assertEqual(render_value("site-{{ inputs.site | lower }}", CONTEXT, "x"), "site-ams")
        self.assertEqual(render_value(42, CONTEXT, "x"), 42)

    def test_nested_values_render(self):
        rendered = render_mapping({"cfg": {"name": "{{ inputs.site }}", "list": ["{{ inputs.count }}", "x"]}}, CONTEXT)
        self.assertEqual(rendered, {"cfg": {"name": "AMS", "list": [3, "x"]}})

    def test_undefined_name_is_an_error_naming_template(self):
        with self.assertRaises(TemplateProblem) as problem:
            render_mapping({"message": "{{ steps.b.result }}"}, CONTEXT)
        self.assertIn("template message", str(problem.exception))
        self.assertIn("'b'", str(problem.exception))

    def test_conditions(self):
        self.assertTrue(evaluate_condition("steps.a.status == 'succeeded'", CONTEXT))
        self.assertFalse(evaluate_condition("inputs.count > 5", CONTEXT))
        with self.assertRaises(TemplateProblem):
            evaluate_condition("steps.zz.status == 'x'", CONTEXT)

    def test_sandbox_refuses_escapes(self):
        for attempt in (
            "{{ ''.__class__.__mro__[1].__subclasses__() }}",
            "{{ inputs.__class__.__init__.__globals__ }}",
            "{{ cycler.__init__.__globals__.os }}",
            "{% set x = inputs.update({'site': 'x'}) %}{{ x }}",
        ):
            with self.subTest(attempt=attempt), self.assertRaises(TemplateProblem):
                render_value(attempt, CONTEXT, "t")

    def test_huge_output_capped(self):
        with self.assertRaisesRegex(TemplateProblem, "limit"):
            render_value("{% for i in range(10000) %}{{ 'x' * 200 }}{% endfor %}", CONTEXT, "t")
        with self.assertRaisesRegex(TemplateProblem, "range"):
            render_value("{{ range(100000000) | list | length }}", CONTEXT, "t")
