"""What the demo holds, as data: the example workflows (in the app's YAML format), the hook rules, the workflow buttons.

``demo_content.py`` loads them; docs/user/getting-started.md walks through them; tests/test_demo_data.py runs each to
the outcome its description states. No Django import here: this module only describes.
"""

JOBS_MODULE = "jobflow_demo_jobs"  # development/jobs/jobflow_demo_jobs.py
REPORT_JOB = "nautobot_jobflow.jobs.utilization.InterfaceUtilizationReport"  # the app's own Job
DEFAULT_DEVICE = "ams-dc1-leaf-0001"  # the first demo device; the workflows' default input
FOR_EACH_SITE, FOR_EACH_ROLE = "AMS-DC1", "leaf"
DEFAULT_LOCATION = FOR_EACH_SITE  # the default input of the location workflow
APPROVERS_GROUP = "Jobflow demo approvers"  # approves the maintenance runs, answers the input step
CHANGE_PATTERN = "^CHG[0-9]+$"  # the change ticket the input step asks for
# How many items of the for-each step succeeded.
BACKED_UP = "{{ steps.backup.items | selectattr('status', 'eq', 'succeeded') | list | length }}"


def job(class_name):
    """The class path of a demo Job."""
    return f"{JOBS_MODULE}.{class_name}"


def _device_input(device):
    """The input schema of a workflow that takes one device, and its default (the first demo device's id)."""
    schema = {
        "type": "object",
        "properties": {
            "device": {
                "type": "string",
                "format": "uuid",
                "title": "Device",
                "description": f"The device's id (pre-filled: {device.name if device else 'none'}).",
            }
        },
        "required": ["device"],
    }
    return schema, ({"device": str(device.pk)} if device else {})


def _location_input(location):
    """The input schema of a workflow that takes one location, and its default (the demo site's id)."""
    schema = {
        "type": "object",
        "properties": {
            "location": {
                "type": "string",
                "format": "uuid",
                "title": "Location",
                "description": f"The location's id (pre-filled: {location.name if location else 'none'}); "
                "the locations below it count too.",
            }
        },
        "required": ["location"],
    }
    return schema, ({"location": str(location.pk)} if location else {})


def _with(schema, **properties):
    return {**schema, "properties": {**schema["properties"], **properties}}


def workflows(device, location=None):
    """The example workflows by key, in load order (a nested workflow after the one it runs)."""
    schema, defaults = _device_input(device)
    location_schema, location_defaults = _location_input(location)
    device_in = {"device": "{{ inputs.device }}"}
    check_and_backup = "Demo: check and back up a device"
    return {
        "fan": {
            "name": check_and_backup,
            "description": "Fan-out, fan-in: check the device; back it up and label its management interface in "
            "parallel; then one ticket. Outcome: succeeded, 4 steps green, <device>.cfg on the backup step's result.",
            "input_schema": schema,
            "default_inputs": defaults,
            "outputs": {
                "device": "{{ steps.check.result.device }}",
                "backup_file": "{{ steps.backup.result.file }}",
                "ticket": "{{ steps.ticket.result.ticket }}",
            },
            "steps": [
                {"name": "check", "job": job("CheckDevice"), "inputs": device_in},
                {"name": "backup", "job": job("BackupConfig"), "inputs": device_in},
                {
                    "name": "label",
                    "job": job("SetInterfaceDescription"),
                    "inputs": {
                        **device_in,
                        "description": "checked by jobflow run {{ run.id }}: {{ steps.check.result.active }} of "
                        "{{ steps.check.result.interfaces }} interfaces active",
                    },
                },
                {
                    "name": "ticket",
                    "job": job("OpenTicket"),
                    "inputs": {
                        "summary": "{{ steps.check.result.device }} checked and backed up",
                        "details": "Backup {{ steps.backup.result.file }} ({{ steps.backup.result.lines }} lines); "
                        "{{ steps.label.result.interface }} now reads '{{ steps.label.result.after }}'.",
                    },
                },
            ],
            "edges": [
                {"from": "check", "to": "backup"},
                {"from": "check", "to": "label"},
                {"from": "backup", "to": "ticket"},
                {"from": "label", "to": "ticket"},
            ],
        },
        "condition": {
            "name": "Demo: capacity check",
            "description": "A condition: open a capacity ticket only when at least 'threshold' % of the device's "
            "interfaces are not in use. Outcome: succeeded; the ticket step ran or was skipped as the condition says.",
            "input_schema": _with(
                schema,
                threshold={"type": "integer", "minimum": 0, "maximum": 100, "title": "Threshold (%)", "default": 30},
            ),
            "default_inputs": {**defaults, "threshold": 30},
            "outputs": {
                "unused_percent": "{{ steps.check.result.unused_percent }}",
                "ticket_opened": "{{ steps.ticket.status == 'succeeded' }}",
            },
            "steps": [
                {"name": "check", "job": job("CheckDevice"), "inputs": device_in},
                {
                    "name": "ticket",
                    "job": job("OpenTicket"),
                    "inputs": {
                        "summary": "{{ steps.check.result.device }}: {{ steps.check.result.unused }} of "
                        "{{ steps.check.result.interfaces }} interfaces not in use "
                        "({{ steps.check.result.unused_percent }} %)",
                        "severity": "medium",
                    },
                },
            ],
            "edges": [
                {
                    "from": "check",
                    "to": "ticket",
                    "trigger": "condition",
                    "condition": "steps.check.result.unused_percent >= inputs.threshold",
                }
            ],
        },
        "failure": {
            "name": "Demo: push with retry, ticket on failure",
            "description": "On-failure branch with retry: the push fails, is retried once and fails again; the "
            "on-failure branch opens a ticket. Outcome: succeeded (failure handled), push failed after 2 attempts.",
            "input_schema": _with(
                schema,
                fail={"type": "boolean", "title": "Make the push fail", "default": True},
            ),
            "default_inputs": {**defaults, "fail": True},
            "steps": [
                {"name": "check", "job": job("CheckDevice"), "inputs": device_in},
                {
                    "name": "push",
                    "job": job("FailOnRequest"),
                    "inputs": {**device_in, "fail": "{{ inputs.fail }}"},
                    "retries": 1,
                    "backoff": 2,
                },
                {
                    "name": "ticket",
                    "job": job("OpenTicket"),
                    "inputs": {
                        "summary": "Push to {{ steps.check.result.device }} failed, retried once",
                        "details": "{{ steps.push.error }}",
                        "severity": "high",
                    },
                },
            ],
            "edges": [
                {"from": "check", "to": "push"},
                {"from": "push", "to": "ticket", "trigger": "on-failure"},
            ],
        },
        "maintenance": {
            "name": "Demo: maintenance (nested, needs approval)",
            "description": f"A nested workflow: runs '{check_and_backup}' as one step, then a ticket. An approval "
            "policy holds each launch for one approver. Outcome: awaiting approval, then (approved) succeeded.",
            "input_schema": schema,
            "default_inputs": defaults,
            "outputs": {"device": "{{ steps.audit.result.device }}", "ticket": "{{ steps.ticket.result.ticket }}"},
            "steps": [
                {"name": "audit", "workflow": check_and_backup, "inputs": device_in},
                {
                    "name": "ticket",
                    "job": job("OpenTicket"),
                    "inputs": {
                        "summary": "Maintenance of {{ steps.audit.result.device }} done",
                        "details": "Backup {{ steps.audit.result.backup_file }}, audit ticket "
                        "{{ steps.audit.result.ticket }}.",
                    },
                },
            ],
            "edges": [{"from": "audit", "to": "ticket"}],
        },
        "for_each": {
            "name": f"Demo: back up every {FOR_EACH_ROLE} switch of {FOR_EACH_SITE}",
            "description": f"For each: backs up every {FOR_EACH_ROLE} device of {FOR_EACH_SITE} (an object query), "
            "3 at a time, then one ticket. Outcome: succeeded, one backup item per device, all green.",
            "outputs": {
                "backed_up": BACKED_UP,
                "files": "{{ steps.backup.result | map(attribute='file') | list }}",
            },
            "steps": [
                {
                    "name": "backup",
                    "job": job("BackupConfig"),
                    "for_each": {
                        "model": "dcim.device",
                        "filter": {"location": [FOR_EACH_SITE], "role": [FOR_EACH_ROLE]},
                    },
                    "inputs": {"device": "{{ item.id }}"},
                    "concurrency": 3,
                },
                {
                    "name": "ticket",
                    "job": job("OpenTicket"),
                    "inputs": {
                        "summary": f"Backed up {BACKED_UP} {FOR_EACH_ROLE} switches of {FOR_EACH_SITE}",
                    },
                },
            ],
            "edges": [{"from": "backup", "to": "ticket"}],
        },
        "input": {
            "name": "Demo: push once a network lead confirms",
            "description": f"An input step: check the device, then ask a member of '{APPROVERS_GROUP}' whether to "
            "push (with a change ticket); push and ticket run when the answer says go. Outcome: awaiting input, then "
            "(answered go) succeeded, 4 steps green.",
            "input_schema": schema,
            "default_inputs": defaults,
            "outputs": {
                "change": "{{ steps.confirm.result.change }}",
                "pushed": "{{ steps.push.status == 'succeeded' }}",
                "ticket": "{{ steps.ticket.result.ticket if steps.ticket.status == 'succeeded' else '' }}",
            },
            "steps": [
                {"name": "check", "job": job("CheckDevice"), "inputs": device_in},
                {
                    "name": "confirm",
                    "kind": "input",
                    "prompt": "{{ steps.check.result.device }}: {{ steps.check.result.active }} of "
                    "{{ steps.check.result.interfaces }} interfaces active. Push the new configuration?",
                    "answer_schema": {
                        "type": "object",
                        "required": ["go", "change"],
                        "properties": {
                            "go": {"type": "boolean", "title": "Push it", "default": True},
                            "change": {
                                "type": "string",
                                "title": "Change ticket",
                                "pattern": CHANGE_PATTERN,
                                "description": "The change ticket of the push, e.g. CHG1234.",
                            },
                        },
                    },
                    "responders": APPROVERS_GROUP,
                },
                {
                    "name": "push",
                    "job": job("FailOnRequest"),
                    "inputs": {**device_in, "fail": False},
                },
                {
                    "name": "ticket",
                    "job": job("OpenTicket"),
                    "inputs": {
                        "summary": "Pushed to {{ steps.check.result.device }} under {{ steps.confirm.result.change }}",
                    },
                },
            ],
            "edges": [
                {"from": "check", "to": "confirm"},
                {"from": "confirm", "to": "push", "trigger": "condition", "condition": "steps.confirm.result.go"},
                {"from": "push", "to": "ticket"},
            ],
        },
        "location": {
            "name": "Demo: interface utilization of a location",
            "description": "The app's Interface Utilization Report for a location (and the locations below it), then "
            "one ticket with its totals. Outcome: succeeded, 2 steps green, the per-device CSV on the report step's "
            "result. The Location pages' button starts it.",
            "input_schema": location_schema,
            "default_inputs": location_defaults,
            "outputs": {
                "location": "{{ steps.report.result.location }}",
                "devices": "{{ steps.report.result.device_count }}",
                "used_percent": "{{ steps.report.result.totals.used_percent }}",
                "ticket": "{{ steps.ticket.result.ticket }}",
            },
            "steps": [
                {"name": "report", "job": REPORT_JOB, "inputs": {"location": "{{ inputs.location }}"}},
                {
                    "name": "ticket",
                    "job": job("OpenTicket"),
                    "inputs": {
                        "summary": "Interface utilization at {{ steps.report.result.location }}: "
                        "{{ steps.report.result.totals.used_percent }} % of {{ steps.report.result.totals.total }} "
                        "interfaces used",
                        "details": "{{ steps.report.result.device_count }} devices; "
                        "{{ steps.report.result.totals.unused }} interfaces unused.",
                    },
                },
            ],
            "edges": [{"from": "report", "to": "ticket"}],
        },
    }


def buttons():
    """The demo's workflow buttons on core's object pages: the workflow by its key in ``workflows()``."""
    return [
        {
            "name": "Demo: check and back up",
            "workflow": "fan",
            "content_types": ["dcim.device"],
            "input_template": {"device": "{{ object.id }}"},
            "text": "Check and back up",
            "button_class": "primary",
            "confirmation": True,
            "weight": 100,
        },
        {
            "name": "Demo: interface utilization of a location",
            "workflow": "location",
            "content_types": ["dcim.location"],
            "input_template": {"location": "{{ object.id }}"},
            "text": "Utilization workflow",
            "button_class": "primary",
            "confirmation": True,
            "weight": 100,
        },
    ]


def hook_rules():
    """The demo's object-change hook rules (targets are demo Jobs, by class name)."""
    return [
        {
            "name": "Demo: check a device set to Planned",
            "description": "When a device's status changes to Planned, run 'Check device' on it.",
            "content_types": ["dcim.device"],
            "type_update": True,
            "conditions": [{"path": "status", "op": "changed_to", "value": "Planned"}],
            "job": "CheckDevice",
            "input_template": {"device": "{{ object.id }}"},
            "debounce_seconds": 0,
        },
        {
            "name": "Demo: ticket for interface description changes",
            "description": "When an interface's description changes, open one ticket once its edits pause for "
            "10 seconds (debounced per interface).",
            "content_types": ["dcim.interface"],
            "type_update": True,
            "conditions": [{"path": "description", "op": "changed"}],
            "job": "OpenTicket",
            "input_template": {
                "summary": "{{ object.device.name }} {{ object.name }}: description changed",
                "details": "Now '{{ object.description }}'"
                "{{ \" (was '\" ~ change.before.description ~ \"')\" if change.before else '' }}.",
            },
            "debounce_seconds": 10,
        },
    ]
