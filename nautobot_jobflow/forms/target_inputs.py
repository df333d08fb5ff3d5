"""A target's inputs as form fields: each with its own widget and a "Template" checkbox (its switch) for a template.

A form that stores the inputs it passes to a Job or a Workflow in a JSON field (a step's ``input_templates``, a hook
rule's ``input_template``) adds :class:`TargetInputsFormMixin`; its edit page includes
``nautobot_jobflow/inc/target_inputs_form.html`` (the form's fields with the inputs panel in the JSON field's place)
and gets ``nautobot_jobflow/js/target_inputs.js`` through the form's media. When the user picks another target, the
script asks :class:`nautobot_jobflow.views.target_inputs.TargetInputsView` for that target's fields.

What is saved (the rule the docs' "Step form" page states):

- The JSON field, when the user edited it (its parsed value differs from the one the form opened with), or when the
  target offers no fields (none chosen, code not installed, a workflow without schema properties). The fields are
  then ignored.
- Otherwise the fields: a value as JSON (an object by its id, several by their ids, IP addresses as text), a
  template's text as it is; an input left empty (or unticked) is left out, as is a reserved one.
- A stored value the field cannot show (a dict for an object, say) is kept while its field is left empty.
"""

import json
import re
import uuid
from dataclasses import dataclass

from django import forms
from django.db.models import Model
from django.forms.utils import ErrorList
from django.urls import reverse
from nautobot.extras.models import Job

from nautobot_jobflow.forms.input_fields import is_checkbox, is_empty, same_value, shows, target_specs, to_json
from nautobot_jobflow.lib.sandbox import is_template
from nautobot_jobflow.models import Workflow
from nautobot_jobflow.models.workflow_checks import RESERVED_INPUTS

PREFIX = "input__"
TEMPLATE_SUFFIX = "__template"
SWITCH_SUFFIX = "__use_template"


@dataclass(frozen=True)
class InputContext:
    """Where the inputs are used: the template placeholder, the inputs the engine sets, the refusal's words.

    ``require``: whether the target's required inputs must be given here (a step or a hook rule starts its target
    unattended; a workflow button asks for the missing ones when pressed).
    """

    placeholder: str
    reserved: frozenset = frozenset()
    where: str = "a workflow step"
    require: bool = True


CONTEXTS = {
    "step": InputContext("{{{{ inputs.{name} }}}}", frozenset(RESERVED_INPUTS), "a workflow step"),
    "hook": InputContext("{{{{ object.id }}}}", frozenset(), "a hook rule"),
    "button": InputContext("{{{{ object.id }}}}", frozenset(), "a workflow button", require=False),
}


def names_of(input_name):
    """The form field names of one input: its value, its template, its switch."""
    value = f"{PREFIX}{input_name}"
    return value, value + TEMPLATE_SUFFIX, value + SWITCH_SUFFIX


@dataclass
class InputRow:
    """One input as the page shows it: its bound fields, whether the template is on, a kept value, its errors."""

    spec: object
    value: forms.BoundField
    template: forms.BoundField
    switch: forms.BoundField
    kept: str = ""

    @property
    def use_template(self):
        """The switch's state (the submitted one on a bound form)."""
        return bool(self.switch.value())

    @property
    def is_checkbox(self):
        """A yes/no variable (rendered as Nautobot renders checkboxes)."""
        return isinstance(self.value.field.widget, forms.CheckboxInput)

    @property
    def errors(self):
        """The errors of the value and of the template."""
        return [*self.value.errors, *self.template.errors]


class TargetInputs:
    """The inputs of one target (a Job or a Workflow) for a form: which fields, their initial values, what to save."""

    def __init__(self, target, context="step", saved=None, user=None):
        """``saved``: the stored inputs to show (None: a new target, Nautobot's defaults are pre-filled).

        ``user``: when given, object pickers offer (and show) only the objects the user may view.
        """
        self.target = target
        self.context_name = context if context in CONTEXTS else "step"
        self.context = CONTEXTS[self.context_name]
        found = target_specs(target, PREFIX, self.context.reserved, self.context.where)
        self.specs, self.notes, self.usable = found.specs, list(found.notes), found.usable
        if user is not None:
            for spec in self.specs:
                queryset = getattr(spec.field, "queryset", None)
                if hasattr(queryset, "restrict"):
                    spec.field.queryset = queryset.restrict(user, "view")
        self.saved = saved if isinstance(saved, dict) else None
        self.kept = {}
        self.initial = {}
        self._plan()

    @property
    def field_names(self):
        """Every form field the inputs add."""
        return {name for spec in self.specs for name in names_of(spec.name)}

    def _plan(self):
        """Initial values: the stored value in its field, a template (or text the field cannot take) in the template."""
        if self.saved is None:
            return
        for spec in self.specs:
            value_name, template_name, switch_name = names_of(spec.name)
            self.initial[value_name] = False if is_checkbox(spec.field) else None
            if spec.name not in self.saved:
                continue
            value = self.saved[spec.name]
            if not is_template(value) and shows(spec, value):
                self.initial[value_name] = spec.initial_for(value)
            elif isinstance(value, str):
                self.initial.update({template_name: value, switch_name: True})
            else:
                self.kept[spec.name] = value
        unknown = sorted(set(self.saved) - {spec.name for spec in self.specs})
        if unknown and self.usable:
            self.notes.append(
                f"Saved inputs that {self.target} does not take here are left out when the fields are saved: "
                f"{', '.join(unknown)}."
            )

    def add_to(self, form):
        """Add the value, template and switch fields of every input to ``form`` (with their initial values)."""
        for spec in self.specs:
            value_name, template_name, switch_name = names_of(spec.name)
            form.fields[value_name] = spec.field
            form.fields[template_name] = forms.CharField(
                required=False,
                strip=False,
                label=f"{spec.label} (template)",
                widget=forms.Textarea(
                    attrs={
                        "rows": 1,
                        "class": "form-control font-monospace",
                        "placeholder": self.context.placeholder.format(name=spec.name),
                        "aria-label": f"{spec.label}: template",
                    }
                ),
            )
            form.fields[switch_name] = forms.BooleanField(
                required=False,
                label="Template",
                widget=forms.CheckboxInput(attrs={"class": "form-check-input", "data-jobflow-switch": spec.name}),
            )
        form.initial.update(self.initial)

    def rows(self, form):
        """One :class:`InputRow` per input, bound to ``form``."""
        return [
            InputRow(
                spec,
                *(form[name] for name in names_of(spec.name)),
                kept=json.dumps(self.kept[spec.name]) if spec.name in self.kept else "",
            )
            for spec in self.specs
        ]

    def showing(self, form, input_name):
        """The field that shows an input on ``form``: its template when switched on, else its value."""
        value_name, template_name, switch_name = names_of(input_name)
        return template_name if form.cleaned_data.get(switch_name) else value_name

    def assemble(self, form):
        """The inputs JSON from the submitted fields; problems become errors on the input's own field."""
        cleaned, result = form.cleaned_data, {}
        for spec in self.specs:
            value_name, template_name, switch_name = names_of(spec.name)
            if cleaned.get(switch_name):
                form.errors.pop(value_name, None)  # the hidden value does not count
                text = cleaned.get(template_name) or ""
                if text.strip():
                    result[spec.name] = text
                elif spec.required and self.context.require:
                    form.add_error(template_name, "This input is required: enter a template, or untick Template.")
                continue
            if value_name in form.errors:
                continue
            value = to_json(cleaned.get(value_name))
            saved = (self.saved or {}).get(spec.name)
            if is_empty(spec, cleaned.get(value_name)):
                if spec.name in self.kept:
                    result[spec.name] = self.kept[spec.name]
                elif spec.required and self.context.require:
                    form.add_error(value_name, "This input is required.")
                elif self.saved and spec.name in self.saved and same_value(value, saved):
                    result[spec.name] = saved  # an explicit empty value stays as it was
                continue
            try:
                json.dumps(value)
            except (TypeError, ValueError):
                form.add_error(value_name, "This value cannot be stored as JSON.")
                continue
            keep = self.saved and spec.name in self.saved and same_value(value, saved, unordered=spec.multiple)
            result[spec.name] = saved if keep else value
        return result


@dataclass
class TargetInputsPanel:
    """What the page's inputs panel needs: the rows, the JSON field, the target selects and the fragment's URL."""

    inputs: TargetInputs
    rows: list
    raw: forms.BoundField
    job_select: str
    workflow_select: str
    saved_target: str
    no_fields: bool  # a target is chosen and offers no fields: the JSON is what will be saved
    json_edited: bool  # the submitted JSON was edited, so it won over the fields
    expanded: bool
    url: str


def _pk_of(value):
    """A primary key from a form value (an object, a UUID or its text), or None."""
    if isinstance(value, Model):
        return value.pk
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


class TargetInputsFormMixin:
    """Adds the inputs of the form's target (its Job or Workflow field) as fields that fill a JSON field.

    Set ``target_inputs_field`` (the JSON model field), ``target_job_field`` and/or ``target_workflow_field`` (the
    form fields that choose the target) and ``target_inputs_context`` (a key of ``CONTEXTS``). Put it before the
    Django form class in the bases; the edit page includes ``nautobot_jobflow/inc/target_inputs_form.html``.
    """

    target_inputs_field = "input_templates"
    target_inputs_context = "step"
    target_job_field = "job"
    target_workflow_field = None

    class Media:
        """The switch and the reload of the fields when the target changes (Nautobot's own htmx and select2)."""

        js = ("nautobot_jobflow/js/target_inputs.js",)

    def __init__(self, *args, **kwargs):
        """Add the fields of the target the data (or the initial values, or the instance) names."""
        super().__init__(*args, **kwargs)
        self.inputs_source = None
        target = self._chosen_target()
        instance = getattr(self, "instance", None)
        saved = None
        if target is not None and instance is not None and instance.pk and self._instance_target_pk() == target.pk:
            saved = getattr(instance, self.target_inputs_field)
        self.target_inputs = TargetInputs(target, self.target_inputs_context, saved)
        self.target_inputs.add_to(self)

    def _target_fields(self):
        return [
            (name, model)
            for name, model in ((self.target_job_field, Job), (self.target_workflow_field, Workflow))
            if name and name in self.fields
        ]

    def _chosen_target(self):
        for name, model in self._target_fields():
            value = self.data.get(self.add_prefix(name)) if self.is_bound else self.initial.get(name)
            pk = _pk_of(value)
            found = model.objects.filter(pk=pk).first() if pk else None
            if found is not None:
                return found
        return None

    def _instance_target_pk(self):
        for name, _model in self._target_fields():
            pk = getattr(self.instance, f"{name}_id", None)
            if pk:
                return pk
        return None

    def raw_inputs_edited(self, value):
        """True when the JSON field's value differs from the one the form opened with."""
        name = self.target_inputs_field
        initial = self.get_initial_for_field(self.fields[name], name)
        if isinstance(initial, str):
            try:
                initial = json.loads(initial) if initial.strip() else None
            except ValueError:
                return True
        return not same_value(value or {}, initial or {})

    def clean(self):
        """Put the inputs assembled from the fields into the JSON field, unless the JSON was edited (it wins)."""
        cleaned = super().clean()
        if cleaned is None:  # a form in the bases may not return it
            cleaned = self.cleaned_data
        name = self.target_inputs_field
        if name in self.errors:
            return cleaned
        if self.target_inputs.usable and not self.raw_inputs_edited(cleaned.get(name)):
            self.inputs_source = "fields"
            cleaned[name] = self.target_inputs.assemble(self)
        else:
            self.inputs_source = "json"
            for field_name in self.target_inputs.field_names:
                self.errors.pop(field_name, None)
        return cleaned

    def _post_clean(self):
        """After the model's validation: a problem that names one input (``input_templates.x``) goes to its field."""
        super()._post_clean()
        name = self.target_inputs_field
        if self.inputs_source != "fields" or not self.errors.get(name):
            return
        inputs = {spec.name for spec in self.target_inputs.specs}
        pattern = re.compile(rf"\b{re.escape(name)}\.(\w+)")
        left = ErrorList()
        for message in self.errors[name]:
            match = pattern.search(message)
            if match and match.group(1) in inputs:
                self.add_error(self.target_inputs.showing(self, match.group(1)), message.replace(f"{name}.", "", 1))
            else:
                left.append(message)
        if left:
            self.errors[name] = left
        else:
            del self.errors[name]

    @property
    def target_inputs_panel(self):
        """The inputs panel of the edit page."""
        raw = self[self.target_inputs_field]
        selects = dict.fromkeys(("job", "workflow"), "")
        for key, name in (("job", self.target_job_field), ("workflow", self.target_workflow_field)):
            if name and name in self.fields:
                selects[key] = self[name].auto_id or ""
        instance_pk = self._instance_target_pk() if getattr(self, "instance", None) is not None else None
        no_fields = self.target_inputs.target is not None and not self.target_inputs.usable
        json_edited = self.target_inputs.usable and self.inputs_source == "json"
        return TargetInputsPanel(
            inputs=self.target_inputs,
            rows=self.target_inputs.rows(self),
            raw=raw,
            job_select=selects["job"],
            workflow_select=selects["workflow"],
            saved_target=str(instance_pk or ""),
            no_fields=no_fields,
            json_edited=json_edited,
            expanded=no_fields or json_edited or bool(raw.errors),
            url=reverse("plugins:nautobot_jobflow:target_inputs"),
        )
