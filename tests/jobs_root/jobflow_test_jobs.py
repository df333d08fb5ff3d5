"""Jobs used only by the test suite (loaded from JOBS_ROOT when the settings are in test mode)."""

import time

from django.core.cache import cache
from nautobot.apps.jobs import (
    BooleanVar,
    ChoiceVar,
    DryRunVar,
    FileVar,
    IntegerVar,
    IPAddressVar,
    Job,
    JSONVar,
    MultiChoiceVar,
    MultiObjectVar,
    ObjectVar,
    StringVar,
    TextVar,
    register_jobs,
)
from nautobot.dcim.models import Device, Location

name = "Jobflow tests"


class Noop(Job):
    """Does nothing and succeeds."""

    class Meta:
        name = "No-op"
        has_sensitive_variables = False

    def run(self):
        return {"ok": True}


class Echo(Job):
    """Logs its inputs and returns them, so tests can pass data from one step to the next."""

    message = StringVar(required=False, default="")
    number = IntegerVar(required=False)

    class Meta:
        name = "Echo"
        has_sensitive_variables = False

    def run(self, message="", number=None):
        self.logger.info("echo: message=%s number=%s", message, number)
        return {"message": message, "number": number, "length": len(message or "")}


class Fail(Job):
    """Always fails with a clear error."""

    reason = StringVar(required=False, default="failing on purpose")

    class Meta:
        name = "Fail"
        has_sensitive_variables = False

    def run(self, reason="failing on purpose"):
        self.logger.error("failing: %s", reason)
        raise RuntimeError(reason)


class Sleep(Job):
    """Sleeps for the given number of seconds (timeouts, cancel, worker death)."""

    seconds = IntegerVar(default=1)

    class Meta:
        name = "Sleep"
        has_sensitive_variables = False
        soft_time_limit = 600
        time_limit = 660

    def run(self, seconds=1):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            time.sleep(0.1)
        return {"slept": seconds}


class Flaky(Job):
    """Fails the first ``failures`` times it runs for a ``key``, then succeeds (retry tests)."""

    key = StringVar()
    failures = IntegerVar(default=1)

    class Meta:
        name = "Flaky"
        has_sensitive_variables = False

    def run(self, key, failures=1):
        counter = f"jobflow-tests-flaky-{key}"
        cache.add(counter, 0, timeout=3600)
        attempt = cache.incr(counter)
        if attempt <= failures:
            raise RuntimeError(f"attempt {attempt} of {key} fails on purpose")
        return {"attempt": attempt}


class DryRunAware(Job):
    """Reports whether it ran as a dry run."""

    dryrun = DryRunVar()
    note = StringVar(required=False, default="")

    class Meta:
        name = "Dry-run aware"
        has_sensitive_variables = False

    def run(self, dryrun=False, note=""):
        self.logger.info("dry run: %s", dryrun)
        return {"dryrun": dryrun, "note": note}


class Secretive(Job):
    """A Job with sensitive variables (its inputs must never be stored)."""

    password = StringVar()
    confirm = BooleanVar(default=False)

    class Meta:
        name = "Secretive"
        has_sensitive_variables = True

    def run(self, password, confirm=False):
        return {"ok": True}


jobs = [Noop, Echo, Fail, Sleep, Flaky, DryRunAware, Secretive]
register_jobs(*jobs)


# Hook rule tests


class TouchDevice(Job):
    """Appends a mark to a device's comments (a hook whose Job edits the object that triggered it)."""

    device_id = StringVar()
    mark = StringVar(required=False, default="touched")

    class Meta:
        name = "Touch device"
        has_sensitive_variables = False

    def run(self, device_id, mark="touched"):
        from django.contrib.contenttypes.models import ContentType
        from nautobot.dcim.models import Device

        # The test worker outlives the test database's flushes, which renumber content types; the change log this
        # Job writes needs the current ids.
        ContentType.objects.clear_cache()

        device = Device.objects.get(pk=device_id)
        device.comments = f"{device.comments} {mark or 'touched'}".strip()
        device.validated_save()
        return {"device": device.name, "comments": device.comments}


class CollectObjects(Job):
    """Receives a list (a batch rule's objects) and returns what it got."""

    objects = JSONVar()
    label = StringVar(required=False, default="")

    class Meta:
        name = "Collect objects"
        has_sensitive_variables = False

    def run(self, objects, label=""):
        self.logger.info("collected %d object(s) %s", len(objects), label)
        return {"count": len(objects), "objects": objects, "label": label}


register_jobs(TouchDevice, CollectObjects)


# Workflow power tests


class MaybeFail(Job):
    """Fails when ``fail`` is set, else returns its label (for-each items that fail on purpose)."""

    label = StringVar(required=False, default="")
    fail = BooleanVar(default=False)
    seconds = IntegerVar(default=0)

    class Meta:
        name = "Maybe fail"
        has_sensitive_variables = False

    def run(self, label="", fail=False, seconds=0):
        if seconds:
            time.sleep(seconds)
        if fail:
            raise RuntimeError(f"{label} fails on purpose")
        return {"label": label}


register_jobs(MaybeFail)

# Step form tests


class InputKinds(Job):
    """One variable of each kind Nautobot has (the step form builds a field for each); returns what it got."""

    location = ObjectVar(model=Location, required=False, description="Where the device is.")
    device = ObjectVar(model=Device, query_params={"location": "$location"}, description="The device to check.")
    devices = MultiObjectVar(model=Device, required=False)
    verbose = BooleanVar(default=True, description="Log every check.")
    mode = ChoiceVar(choices=(("fast", "Fast"), ("full", "Full")), default="fast")
    checks = MultiChoiceVar(choices=(("ping", "Ping"), ("ssh", "SSH"), ("snmp", "SNMP")), required=False)
    count = IntegerVar(default=3, min_value=1, max_value=10)
    label = StringVar(required=False, max_length=20)
    notes = TextVar(required=False)
    options = JSONVar(required=False)
    address = IPAddressVar(required=False)
    upload = FileVar(required=False)
    dryrun = DryRunVar()

    class Meta:
        name = "Input kinds"
        has_sensitive_variables = False

    def run(self, device, count, mode, verbose=False, label="", dryrun=False, **others):
        self.logger.info("checking %s (%s) %s times, mode %s: %s", device.name, label, count, mode, verbose)
        return {"device": device.name, "count": count, "mode": mode, "verbose": verbose, "label": label}


register_jobs(InputKinds)
