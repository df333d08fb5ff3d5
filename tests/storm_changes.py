"""The changes of the hook storm test: rounds of change contexts, each changing every object of a slice once.

Run in the test's own process and, at the same time, in a second one (``python -m tests.storm_changes``), so two
writers change objects at once, as two scripts or two users would, and their events interleave in the queue.
"""

import os
import subprocess
import sys

from tests.worker import CONFIG, ROOT

NAME_FORMAT = "storm-{:02d}"


def is_hot(index, round_number):
    """Whether the change of object ``index`` in ``round_number`` makes its description end in "hot"."""
    return (index + round_number) % 4 == 0


def description(index, round_number):
    """What round ``round_number`` writes into object ``index``'s description."""
    return f"r{round_number}-{'hot' if is_hot(index, round_number) else 'cold'}"


def make_changes(user, indexed_objects, rounds):
    """``rounds`` change contexts of ``user``, each saving every (index, object) once with its new description."""
    from nautobot.extras.context_managers import web_request_context

    for round_number in range(rounds):
        with web_request_context(user):
            for index, obj in indexed_objects:
                obj.description = description(index, round_number)
                obj.save()


class SecondWriter:
    """The other process: loads Django, says "ready", changes its slice when told "go", then says "done"."""

    def __init__(self, user, first, last, rounds):
        from django.db import connection

        env = {**os.environ, "NAUTOBOT_DB_NAME": connection.settings_dict["NAME"], "JOBFLOW_TESTING": "1"}
        argv = [sys.executable, "-m", "tests.storm_changes", str(user.pk), str(first), str(last), str(rounds)]
        self.process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self._expect("ready")

    def go(self):
        """Start changing (returns at once)."""
        self.process.stdin.write("go\n")
        self.process.stdin.flush()

    def wait(self):
        """Wait until its changes are committed."""
        self._expect("done")
        self.process.stdin.close()
        self.process.wait(timeout=60)

    def _expect(self, word):
        output = []
        for line in self.process.stdout:
            output.append(line)
            if line.strip() == word:
                return
        self.process.wait()
        raise RuntimeError(
            f"storm writer exited ({self.process.returncode}) before '{word}':\n{''.join(output)[-3000:]}"
        )


def main(user_pk, first, last, rounds):
    import nautobot

    nautobot.setup(str(CONFIG))
    from django.contrib.auth import get_user_model
    from nautobot.dcim.models import Manufacturer

    user = get_user_model().objects.get(pk=user_pk)
    by_name = Manufacturer.objects.in_bulk([NAME_FORMAT.format(i) for i in range(first, last)], field_name="name")
    indexed = [(index, by_name[NAME_FORMAT.format(index)]) for index in range(first, last)]
    print("ready", flush=True)
    sys.stdin.readline()
    make_changes(user, indexed, rounds)
    print("done", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
