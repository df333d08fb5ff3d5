"""Forms generated from a JSON Schema: the "Run workflow" form and an input step's answer form.

The run form is built from a workflow's ``input_schema``, the answer form from an input step's ``answer_schema``.
Each top-level property becomes a field: string, integer, number, boolean, enum (a choice), array and object (JSON
text). A schema without properties gets one JSON textarea for the whole object.
"""

import json

from django import forms
from nautobot.apps.forms import BootstrapMixin

INPUTS_FIELD = "inputs"
FIELD_PREFIX = "input_"


class JSONValueField(forms.CharField):
    """A textarea holding one JSON value, optionally of a required Python type."""

    widget = forms.Textarea(attrs={"rows": 4, "class": "font-monospace"})

    def __init__(self, *args, expected_type=None, **kwargs):
        """``expected_type``: a type (or tuple) the parsed value must be an instance of."""
        self.expected_type = expected_type
        super().__init__(*args, **kwargs)

    def prepare_value(self, value):
        """Show Python values as JSON."""
        if value is None or isinstance(value, str):
            return value
        return json.dumps(value, indent=2)

    def to_python(self, value):
        """Parse the JSON text; empty stays None."""
        value = super().to_python(value)
        if value in (None, ""):
            return None
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as error:
            raise forms.ValidationError(f"Not valid JSON: {error.msg} (line {error.lineno})") from None
        if self.expected_type is not None and not isinstance(parsed, self.expected_type):
            names = {list: "a JSON array", dict: "a JSON object"}
            raise forms.ValidationError(f"Enter {names.get(self.expected_type, 'a valid value')}.")
        return parsed


def field_for_property(name, spec, required, initial):
    """One form field for a JSON Schema property."""
    spec = spec if isinstance(spec, dict) else {}
    label = spec.get("title") or name
    common = {"label": label, "required": required, "help_text": spec.get("description", ""), "initial": initial}
    kind = spec.get("type")
    if isinstance(kind, list):
        kind = next((item for item in kind if item != "null"), None)
    if "enum" in spec:
        choices = [(json.dumps(value), str(value)) for value in spec["enum"]]
        if not required:
            choices.insert(0, ("", "---------"))
        common["initial"] = json.dumps(initial) if initial is not None else None
        return forms.TypedChoiceField(choices=choices, coerce=json.loads, empty_value=None, **common)
    if kind == "boolean":
        common["required"] = False
        return forms.BooleanField(**common)
    if kind == "integer":
        return forms.IntegerField(min_value=spec.get("minimum"), max_value=spec.get("maximum"), **common)
    if kind == "number":
        return forms.FloatField(min_value=spec.get("minimum"), max_value=spec.get("maximum"), **common)
    if kind == "string":
        if spec.get("maxLength", 256) > 256:
            return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), strip=False, **common)
        return forms.CharField(max_length=spec.get("maxLength"), **common)
    if kind == "array":
        return JSONValueField(expected_type=list, **common)
    if kind == "object":
        return JSONValueField(expected_type=dict, **common)
    return JSONValueField(**common)


class SchemaForm(BootstrapMixin, forms.Form):
    """A JSON object's fields, built from a JSON Schema and pre-filled from ``defaults``; declared fields come last."""

    whole_label = "Inputs"
    whole_help_text = "A JSON object."

    def __init__(self, *args, schema, defaults=None, **kwargs):
        """Add one field per schema property (or one JSON field when the schema has none)."""
        super().__init__(*args, **kwargs)
        schema = schema if isinstance(schema, dict) else {}
        defaults = defaults or {}
        properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        required = set(schema.get("required") or [])
        self.property_names = list(properties)
        fields = {}
        for name, spec in properties.items():
            initial = defaults.get(name, spec.get("default") if isinstance(spec, dict) else None)
            fields[FIELD_PREFIX + name] = field_for_property(name, spec, name in required, initial)
        if not properties:
            fields[INPUTS_FIELD] = JSONValueField(
                expected_type=dict,
                required=False,
                label=self.whole_label,
                help_text=self.whole_help_text,
                initial=defaults,
            )
        declared = dict(self.fields)
        self.fields.clear()
        self.fields.update(fields)
        self.fields.update(declared)
        for field in self.fields.values():
            if not isinstance(field, forms.BooleanField):
                field.widget.attrs.setdefault("class", "form-control")

    def field_name_for(self, input_name):
        """The form field that holds a top-level input (or the JSON field)."""
        if self.property_names and FIELD_PREFIX + str(input_name) in self.fields:
            return FIELD_PREFIX + str(input_name)
        return INPUTS_FIELD if INPUTS_FIELD in self.fields else None

    def get_values(self):
        """The JSON object from the cleaned data (empty optional fields left out)."""
        if INPUTS_FIELD in self.cleaned_data:
            return self.cleaned_data[INPUTS_FIELD] or {}
        inputs = {}
        for name in self.property_names:
            value = self.cleaned_data.get(FIELD_PREFIX + name)
            if value is None or value == "":
                continue
            inputs[name] = value
        return inputs


class WorkflowLaunchForm(SchemaForm):
    """Inputs of a workflow run, built from its input schema and pre-filled from its default inputs (and given ones)."""

    whole_help_text = "A JSON object; empty uses the workflow's default inputs."

    dryrun = forms.BooleanField(
        required=False, label="Dry run", help_text="Run every step that supports it as a dry run."
    )

    def __init__(self, *args, workflow, initial_inputs=None, **kwargs):
        """The fields of the workflow's input schema, then the dry-run flag.

        ``initial_inputs``: input values to pre-fill over the workflow's defaults (a workflow button's).
        """
        self.workflow = workflow
        defaults = {**(workflow.default_inputs or {}), **(initial_inputs or {})}
        super().__init__(*args, schema=workflow.input_schema or {}, defaults=defaults, **kwargs)

    def get_inputs(self):
        """The inputs object from the cleaned data (empty optional fields left out)."""
        return self.get_values()


class StepAnswerForm(SchemaForm):
    """The answer to an input step, built from its answer schema (the step run it answers in a hidden field)."""

    whole_label = "Answer"

    step_run = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, schema, step_run=None, **kwargs):
        """The fields of the answer schema; ``step_run`` fills the hidden field."""
        super().__init__(*args, schema=schema, **kwargs)
        if step_run is not None:
            self.fields["step_run"].initial = step_run.pk

    def get_answer(self):
        """The answer object (the hidden step run field is not part of it)."""
        return self.get_values()
