"""For-each steps: one attempt row per item (and per retry), under the run's row lock like every other attempt.

A for-each step has its own row (``item_index`` empty) that holds the item list, the progress counters and, once every
item is over, the list of item results. Each item runs as an attempt row with ``item_index`` set, so the JobResult
link, retries, timeouts, reaping and cancel work for items as they do for steps. An advance loads a for-each step's
own row and only its *active* item rows (at most ``concurrency`` of them), never every item: the counters on the
step's row say how many started, succeeded and failed. Items start in index order, up to ``concurrency`` per
advance; the run's row lock makes "at most N running" hold across all workers.
"""

from nautobot_jobflow import app_settings
from nautobot_jobflow.choices import StepRunStatusChoices
from nautobot_jobflow.engine.outcomes import truncate
from nautobot_jobflow.lib.object_filters import filtered
from nautobot_jobflow.lib.sandbox import TemplateProblem, render_value
from nautobot_jobflow.models import WorkflowStepRun
from nautobot_jobflow.models.workflow_checks import object_query_model

STEP = StepRunStatusChoices
PENDING_ITEM = "pending"


class ForEachProblem(Exception):
    """The for-each list cannot be had (not a list, over the cap, an unknown model); the message says why."""


def evaluate_items(for_each, context, user):
    """The items of a for-each step: a literal list, a template's list, or an object query's objects (as ``user``)."""
    if isinstance(for_each, list):
        items = for_each
    elif isinstance(for_each, dict):
        items = _query_items(for_each, user)
    else:
        try:
            items = render_value(for_each, context, "for_each")
        except TemplateProblem as problem:
            raise ForEachProblem(str(problem)) from None
        if isinstance(items, tuple):
            items = list(items)
        if not isinstance(items, list):
            raise ForEachProblem(f"for_each gave {type(items).__name__}, not a list: {truncate(repr(items))[:200]}")
    cap = app_settings.for_each_max_items()
    if len(items) > cap:
        raise ForEachProblem(
            f"for_each gave {len(items)} items; at most {cap} are allowed (the for_each_max_items setting)."
        )
    return items


def _query_items(query, user):
    """Objects of an object query the run's user may view, as ``{"id", "name"}``, in the model's order."""
    model = object_query_model(query)
    if model is None:
        raise ForEachProblem(f"for_each: unknown object type {query.get('model')!r}.")
    queryset = model.objects.restrict(user, "view") if user is not None else model.objects.none()
    queryset = filtered(model, query.get("filter") or {}, queryset)
    if queryset is None:
        raise ForEachProblem(f"for_each: the filter is no longer valid for {model._meta.label_lower}.")
    cap = app_settings.for_each_max_items()
    objects = list(queryset[: cap + 1])
    if len(objects) > cap:
        raise ForEachProblem(
            f"for_each: the object query matches more than {cap} objects (the for_each_max_items setting)."
        )
    return [{"id": str(obj.pk), "name": str(obj)} for obj in objects]


def new_progress(total):
    """The counters of a for-each step that has not started an item."""
    return {"total": total, "started": 0, "succeeded": 0, "failed": 0, "statuses": [PENDING_ITEM] * total}


def items_view(step_run):
    """``steps.<name>.items`` in templates: index, item, status and result of every item of a finished step."""
    items = step_run.items or []
    statuses = (step_run.progress or {}).get("statuses") or []
    results = step_run.result if isinstance(step_run.result, list) else []
    return [
        {
            "index": index,
            "item": item,
            "status": statuses[index] if index < len(statuses) else PENDING_ITEM,
            "result": results[index] if index < len(results) else None,
        }
        for index, item in enumerate(items)
    ]


def counter_label(progress):
    """'12/40 ✓ 1 ✗' for the graph: items done of all, succeeded, failed."""
    if not progress:
        return ""
    done = progress.get("succeeded", 0) + progress.get("failed", 0)
    return f"{done}/{progress.get('total', 0)} ✓ {progress.get('succeeded', 0)} ✗ {progress.get('failed', 0)}"


class ForEachSteps:
    """RunState's part for for-each steps (mixed into engine.run_state.RunState)."""

    def _start_for_each(self, name, reused=None):
        """Expand the step's items and start the first ones; an empty list succeeds at once with []."""
        spec = self.steps[name]
        header = WorkflowStepRun(run=self.run, step_name=name, attempt=1, status=STEP.RUNNING, started=self.now)
        self.latest[name] = header
        rerun = reused or {}
        try:
            items = (
                rerun["items"] if "items" in rerun else evaluate_items(spec["for_each"], self.context(), self.run.user)
            )
        except ForEachProblem as problem:
            self._finish_attempt(header, STEP.FAILED, error=f"Step '{name}': {problem}")
            return
        header.items = items
        header.progress = new_progress(len(items))
        if not items:
            self._finish_attempt(header, STEP.SUCCEEDED, result=[])
            return
        header.save()
        self._keep_rerun_items(name, header, rerun.get("succeeded") or {})
        self._sync_for_each(name, header)

    def _keep_rerun_items(self, name, header, succeeded):
        """A rerun from the failed items: the items that succeeded keep their results (one INSERT for all)."""
        if not succeeded:
            return
        originals = WorkflowStepRun.objects.filter(pk__in=list(succeeded.values())).only("pk", "result", "item")
        by_pk = {str(original.pk): original for original in originals}
        kept = []
        for index_text, pk in succeeded.items():
            original = by_pk.get(str(pk))
            index = int(index_text)
            if original is None or index >= len(header.items):
                continue
            kept.append(
                WorkflowStepRun(
                    run=self.run, step_name=name, item_index=index, item=header.items[index], attempt=1,
                    status=STEP.SUCCEEDED, result=original.result, reused_from=original,
                    started=self.now, finished=self.now,
                )
            )  # fmt: skip
            header.progress["statuses"][index] = STEP.SUCCEEDED
        WorkflowStepRun.objects.bulk_create(kept)
        header.progress["succeeded"] += len(kept)
        header.progress["started"] += len(kept)

    def _sync_for_each(self, name, header):
        """Sync the step's active items, start more up to its concurrency, and finish the step when all are over."""
        spec = self.steps[name]
        progress = header.progress
        before = repr(progress)
        for index, item_run in list(self.items[name].items()):
            if item_run.status == STEP.RUNNING:
                self._sync_running(name, item_run)
            elif (self._retry_due(item_run) or item_run.status == STEP.WAITING) and not self.paused:
                self._launch_attempt(name, item_run)
            self._count_item(name, header, self.items[name][index])
        # More failures than tolerated: no more item starts; the running ones finish (canceling a half-done change
        # on a device would be worse), then the step fails.
        too_many_failed = progress["failed"] > (spec.get("max_failures") or 0)
        if not self.paused and not too_many_failed:
            self._start_items(name, header)
        active = [item_run for item_run in self.items[name].values() if item_run.status in STEP.ACTIVE]
        if not active and (too_many_failed or progress["started"] >= progress["total"]):
            self._finish_for_each(name, header)
        elif repr(progress) != before:
            header.save(update_fields=["progress"])

    def _count_item(self, name, header, item_run):
        """An item whose attempt ended with no retry to follow: count it once."""
        if item_run.status in STEP.ACTIVE:
            return
        statuses = header.progress["statuses"]
        if statuses[item_run.item_index] != PENDING_ITEM and statuses[item_run.item_index] != STEP.RUNNING:
            return
        statuses[item_run.item_index] = item_run.status
        header.progress["succeeded" if item_run.status == STEP.SUCCEEDED else "failed"] += 1
        self.items[name].pop(item_run.item_index, None)

    def _start_items(self, name, header):
        spec = self.steps[name]
        progress = header.progress
        running = sum(1 for item_run in self.items[name].values() if item_run.status in STEP.ACTIVE)
        room = (spec.get("concurrency") or progress["total"]) - running
        statuses = progress["statuses"]
        index = progress.get("next", 0)
        while room > 0 and index < progress["total"]:
            if statuses[index] != PENDING_ITEM:
                index += 1
                continue
            item_run = WorkflowStepRun(
                run=self.run, step_name=name, item_index=index, item=header.items[index], attempt=1, status=STEP.PENDING
            )
            self.items[name][index] = item_run
            statuses[index] = STEP.RUNNING
            progress["started"] += 1
            self._launch_attempt(name, item_run)
            self._count_item(name, header, item_run)  # a launch that failed at once (bad template, refused)
            room -= 1
            index += 1
        progress["next"] = index

    def _finish_for_each(self, name, header):
        """No item runs any more: the step's result is the list of item results, in item order (None: no result).

        Items never started (more failures than tolerated stopped the step) are marked skipped in the counters.
        """
        progress = header.progress
        results = self._item_results(name, progress["total"])
        statuses = progress["statuses"]
        not_started = [index for index, status in enumerate(statuses) if status == PENDING_ITEM]
        for index in not_started:
            statuses[index] = STEP.SKIPPED
        tolerated = self.steps[name].get("max_failures") or 0
        if progress["failed"] > tolerated:
            error = f"Step '{name}': {progress['failed']} of {progress['total']} items failed; {tolerated} tolerated"
            error += f", {len(not_started)} not started." if not_started else "."
            self._finish_attempt(header, STEP.FAILED, result=results, error=error + self._first_failure(name))
        else:
            self._finish_attempt(header, STEP.SUCCEEDED, result=results)

    def _item_results(self, name, total):
        """Each item's result from its last attempt (one query, once per step)."""
        results = [None] * total
        rows = (
            WorkflowStepRun.objects.filter(run=self.run, step_name=name, item_index__isnull=False)
            .order_by("item_index", "attempt")
            .values_list("item_index", "result")
        )
        for index, result in rows:
            if index < total:
                results[index] = result
        return results

    def _first_failure(self, name):
        failed = (
            WorkflowStepRun.objects.filter(
                run=self.run, step_name=name, item_index__isnull=False, status__in=STEP.FAILURES
            )
            .order_by("item_index", "-attempt")
            .values_list("item_index", "error")
            .first()
        )
        return f" First failure, item {failed[0]}: {failed[1]}" if failed else ""
