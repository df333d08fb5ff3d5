/*
 * The inputs panel of the step and hook rule forms (templates/nautobot_jobflow/inc/target_inputs.html).
 *
 * - The "Template" checkbox (the switch) of an input shows its template field instead of its own widget.
 * - When the target (the Job or Workflow select) changes, the panel's rows are fetched again for that target
 *   (views/target_inputs.py) with Nautobot's own htmx, and Nautobot's own `jsify_form` initialises the new select2
 *   pickers, as core does for the content it loads into a form.
 * - Editing the JSON (the "advanced" view) shows that the JSON is what will be saved.
 *
 * No library of its own: htmx, jQuery (select2's change events) and Bootstrap are the ones Nautobot loads.
 */
(() => {
  'use strict';

  const showMode = (row) => {
    const useTemplate = Boolean(row.querySelector('[data-jobflow-switch]')?.checked);
    row.querySelector('[data-jobflow-value]')?.classList.toggle('d-none', useTemplate);
    row.querySelector('[data-jobflow-template]')?.classList.toggle('d-none', !useTemplate);
  };

  document.addEventListener('change', (event) => {
    const toggle = event.target.closest?.('[data-jobflow-switch]');
    const row = toggle?.closest('[data-jobflow-input]');
    if (!row) {
      return;
    }
    showMode(row);
    if (toggle.checked) {
      row.querySelector('[data-jobflow-template] textarea')?.focus();
    }
  });

  const selectOf = (id) => (id ? document.getElementById(id) : null);

  const chosenTarget = (panel) => {
    for (const [param, id] of [['job', panel.dataset.jobSelect], ['workflow', panel.dataset.workflowSelect]]) {
      const select = selectOf(id);
      if (select?.value) {
        return { param, value: select.value };
      }
    }
    return null;
  };

  const showNote = (panel, name, visible) => {
    panel.querySelector(`[data-jobflow-raw-note="${name}"]`)?.classList.toggle('d-none', !visible);
  };

  const setUp = (panel) => {
    const fields = panel.querySelector('[data-jobflow-input-fields]');
    const raw = panel.querySelector('[data-jobflow-raw] textarea');
    let loaded = JSON.stringify(chosenTarget(panel));

    const reload = () => {
      const target = chosenTarget(panel);
      const key = JSON.stringify(target);
      if (key === loaded) {
        return;
      }
      loaded = key;
      const values = { context: panel.dataset.context };
      if (target) {
        values[target.param] = target.value;
        // Back on the stored target: show its stored inputs again.
        if (target.value === panel.dataset.savedTarget && raw) {
          values.saved = raw.defaultValue;
        }
      }
      window.htmx.ajax('GET', panel.dataset.url, { target: fields, swap: 'innerHTML', values });
    };

    [panel.dataset.jobSelect, panel.dataset.workflowSelect].forEach((id) => {
      const select = selectOf(id);
      if (select) {
        // select2 announces a choice with jQuery's `change` event (not a native one).
        window.jQuery(select).on('change', reload);
      }
    });
    raw?.addEventListener('input', () => {
      const noFields = fields.querySelector('[data-jobflow-no-fields]')?.dataset.jobflowNoFields === 'true';
      showNote(panel, 'edited', !noFields && raw.value !== raw.defaultValue);
    });
  };

  document.addEventListener('DOMContentLoaded', () => {
    document.querySelectorAll('[data-jobflow-target-inputs]').forEach(setUp);
  });

  document.addEventListener('htmx:afterSettle', (event) => {
    const fields = event.detail.target;
    if (!fields?.matches?.('[data-jobflow-input-fields]')) {
      return;
    }
    window.jsify_form?.(fields);
    const panel = fields.closest('[data-jobflow-target-inputs]');
    const noFields = fields.querySelector('[data-jobflow-no-fields]')?.dataset.jobflowNoFields === 'true';
    showNote(panel, 'no-fields', noFields);
    if (noFields) {
      const collapse = panel.querySelector('[data-jobflow-raw]');
      window.bootstrap.Collapse.getOrCreateInstance(collapse, { toggle: false }).show();
    }
  });
})();
