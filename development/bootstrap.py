"""Bootstrap steps of `invoke start` that need Django: run as `python development/bootstrap.py <step>`."""

import os
import sys
from pathlib import Path

import nautobot

CONFIG = Path(__file__).resolve().parent / "nautobot_config.py"


def superuser():
    """Create the development superuser from NAUTOBOT_SUPERUSER_* unless it exists; print the credentials."""
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    name = os.environ["NAUTOBOT_SUPERUSER_NAME"]
    if user_model.objects.filter(username=name).exists():
        print(f"    superuser {name!r} exists")
        return
    user_model.objects.create_superuser(
        username=name, email=os.environ["NAUTOBOT_SUPERUSER_EMAIL"], password=os.environ["NAUTOBOT_SUPERUSER_PASSWORD"]
    )
    print(f"    created superuser {name!r} with password {os.environ['NAUTOBOT_SUPERUSER_PASSWORD']!r}")
    from nautobot_jobflow.seeding import ensure_reconciler_schedule

    if ensure_reconciler_schedule():
        print("    scheduled the workflow reconciler (every minute)")


STEPS = {"superuser": superuser}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in STEPS:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(STEPS)}}}")
    nautobot.setup(str(CONFIG))
    STEPS[sys.argv[1]]()
