"""Readiness and the end of a run: which incoming edges fired, which steps start or are skipped, when the run ends.

Mixed into ``engine.run_state.RunState``, whose attributes (``latest``, ``incoming``, ``outgoing``, ``steps``) it reads.
"""

from nautobot_jobflow.choices import EdgeTriggerChoices, JoinModeChoices, StepRunStatusChoices, WorkflowRunStatusChoices
from nautobot_jobflow.engine.outcomes import truncate
from nautobot_jobflow.lib.sandbox import TemplateProblem, evaluate_condition, render_mapping
from nautobot_jobflow.models import WorkflowStepRun

STEP = StepRunStatusChoices
RUN = WorkflowRunStatusChoices


def parent_run_id(run):
    """The id of the run whose step started ``run`` (a nested run), or None."""
    if not run.parent_step_run_id:
        return None
    return WorkflowStepRun.objects.filter(pk=run.parent_step_run_id).values_list("run_id", flat=True).first()


class Readiness:
    """RunState's part that decides what is ready and when the run ends."""

    # ---------------------------------------------------------------------------------------------- readiness
    def edge_state(self, edge):
        """'fired', 'dead' or 'waiting' for one incoming edge."""
        source = edge["source"]
        if not self.settled(source):
            return "waiting"
        source_run = self.latest[source]
        if source_run.status in (STEP.SKIPPED, STEP.CANCELED):
            return "dead"
        trigger = edge["trigger"]
        if trigger == EdgeTriggerChoices.ON_SUCCESS:
            return "fired" if source_run.status == STEP.SUCCEEDED else "dead"
        if trigger == EdgeTriggerChoices.ON_FAILURE:
            return "fired" if source_run.status in STEP.FAILURES else "dead"
        if trigger == EdgeTriggerChoices.ALWAYS:
            return "fired"
        if source_run.status != STEP.SUCCEEDED:
            # A condition reads its source's result: a source that failed has none, so the edge does not fire and
            # the run's error stays the source's own, not the condition's "'None' has no attribute ...".
            return "dead"
        label = f"condition of edge {source} → {edge['target']}"
        return "fired" if evaluate_condition(edge["condition"], self.context(), label) else "dead"

    def start_ready_steps(self):
        """Start (or skip) every step that has not started and whose incoming edges are decided."""
        for name in self.definition["order"]:
            if name in self.latest:
                continue
            edges = self.incoming[name]
            if not edges:
                self._start_step(name)
                continue
            try:
                states = [self.edge_state(edge) for edge in edges]
            except TemplateProblem as problem:
                self._record_step(name, STEP.FAILED, error=str(problem))
                continue
            join_any = self.steps[name].get("join_mode") == JoinModeChoices.ANY
            if (join_any and "fired" in states) or (not join_any and all(state == "fired" for state in states)):
                self._start_step(name)
            elif "waiting" in states:
                continue
            else:
                dead = [edge["source"] for edge, state in zip(edges, states, strict=True) if state == "dead"]
                self._record_step(
                    name, STEP.SKIPPED, error=f"Skipped: the edge(s) from {', '.join(dead)} did not fire."
                )

    # ---------------------------------------------------------------------------------------------- finish
    def finish_if_done(self):
        """When every step is settled: the run fails if a failure was not handled by an edge, else succeeds."""
        # Steps skipped or failed in this pass may have made others ready: loop until nothing changes.
        while True:
            before = len(self.latest)
            self.start_ready_steps()
            if len(self.latest) == before:
                break
        if len(self.latest) < len(self.steps) or not all(self.settled(name) for name in self.steps):
            return
        unhandled = [
            name
            for name, step_run in self.latest.items()
            if step_run.status in STEP.FAILURES and not self._failure_handled(name)
        ]
        self.run.status = RUN.FAILED if unhandled else RUN.SUCCEEDED
        if unhandled:
            details = "; ".join(f"{name}: {self.latest[name].error}" for name in sorted(unhandled))
            self.run.error = truncate(f"Failed step(s): {details}")
        else:
            self._store_outputs()
        self.run.finished = self.now
        self.run.save(update_fields=["status", "error", "finished", "result"])
        self._notify_parent()

    def _store_outputs(self):
        """A succeeded run's result: its outputs rendered (a template error fails the run), else every step's result."""
        outputs = self.definition.get("outputs") or {}
        if not outputs:
            self.run.result = {
                name: step_run.result for name, step_run in sorted(self.latest.items()) if step_run.is_final
            }
            return
        try:
            self.run.result = render_mapping(outputs, self.context())
        except TemplateProblem as problem:
            self.run.status = RUN.FAILED
            self.run.error = truncate(f"Outputs: {problem}")

    def _failure_handled(self, name):
        """A failed step is handled when one of its outgoing edges fired (an on-failure or always branch)."""
        for edge in self.outgoing[name]:
            try:
                if self.edge_state(edge) == "fired":
                    return True
            except TemplateProblem:
                continue
        return False

    def _notify_parent(self):
        if self.run.parent_step_run_id:
            self.parent_to_advance = parent_run_id(self.run)
