"""Demo data for the development environment: `python development/demo_data.py --devices 300` (`invoke demo-data`).

Idempotent: every object is looked up by name and created only when missing, so running it twice changes
nothing. Builds a location tree (region > city > site), device roles, device types with interface templates,
and devices whose interfaces are spread over all five interface statuses, so that the Interface Utilization
Report and the job buttons have something real to show. Then ``demo_content.py`` loads the app's demo content
(example workflows, hook rules, an approval policy, demo users) on the demo Jobs of ``development/jobs``.
"""

import argparse
import os
import random
from pathlib import Path

import bootstrap
import nautobot

CONFIG = Path(__file__).resolve().parent / "nautobot_config.py"

TREE = {
    "Europe": {"Amsterdam": ["AMS-DC1", "AMS-DC2"], "Frankfurt": ["FRA-DC1"]},
    "North America": {"New York": ["NYC-DC1", "NYC-POP1"], "Chicago": ["CHI-DC1"]},
    "Asia Pacific": {"Singapore": ["SIN-DC1"]},
}
ROLES = {"spine": "2196f3", "leaf": "4caf50", "border": "ff9800", "access": "9c27b0", "firewall": "f44336"}
DEVICE_TYPES = {  # model: (manufacturer, interface count, name pattern, interface type)
    "DCS-7280SR-48C6": ("Arista", 54, "Ethernet{}", "25gbase-x-sfp28"),
    "QFX5120-48Y": ("Juniper", 48, "xe-0/0/{}", "25gbase-x-sfp28"),
    "C9300-24T": ("Cisco", 24, "GigabitEthernet1/0/{}", "1000base-t"),
    "PA-3220": ("Palo Alto", 12, "ethernet1/{}", "1000base-t"),
}
ROLE_TYPES = {
    "spine": "DCS-7280SR-48C6",
    "leaf": "QFX5120-48Y",
    "border": "DCS-7280SR-48C6",
    "access": "C9300-24T",
    "firewall": "PA-3220",
}
ROLE_SHARE = ["leaf"] * 5 + ["access"] * 4 + ["spine", "border", "firewall"]
VIRTUAL_INTERFACE_ROLES = ("spine", "border")
# Interface status mix: most in use, a realistic tail of the others.
STATUS_WEIGHTS = {"Active": 60, "Planned": 15, "Decommissioning": 8, "Maintenance": 7, "Failed": 5}
# Roles that differ from the mix above, so that the report's per-role table shows differences.
ROLE_STATUS_WEIGHTS = {
    "spine": {"Active": 85, "Planned": 5, "Decommissioning": 2, "Maintenance": 5, "Failed": 3},
    "border": {"Active": 70, "Planned": 10, "Decommissioning": 5, "Maintenance": 10, "Failed": 5},
    "access": {"Active": 40, "Planned": 35, "Decommissioning": 12, "Maintenance": 8, "Failed": 5},
}


def build(device_count, seed=42):
    """Create (or complete) the demo inventory; returns a summary dict."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction
    from nautobot.dcim.models import (
        Device,
        DeviceType,
        Interface,
        InterfaceTemplate,
        Location,
        LocationType,
        Manufacturer,
    )
    from nautobot.extras.models import Role, Status

    rng = random.Random(seed)
    device_ct = ContentType.objects.get_for_model(Device)
    active = Status.objects.get(name="Active")
    interface_statuses = {name: Status.objects.get(name=name) for name in STATUS_WEIGHTS}

    with transaction.atomic():
        region_type, _ = LocationType.objects.get_or_create(name="Region", defaults={"nestable": True})
        city_type, _ = LocationType.objects.get_or_create(name="City", defaults={"parent": region_type})
        site_type, _ = LocationType.objects.get_or_create(name="Site", defaults={"parent": city_type})
        site_type.content_types.add(device_ct)
        sites = []
        for region_name, cities in TREE.items():
            region, _ = Location.objects.get_or_create(
                name=region_name, location_type=region_type, defaults={"status": active}
            )
            for city_name, site_names in cities.items():
                city, _ = Location.objects.get_or_create(
                    name=city_name, location_type=city_type, defaults={"status": active, "parent": region}
                )
                for site_name in site_names:
                    site, _ = Location.objects.get_or_create(
                        name=site_name, location_type=site_type, defaults={"status": active, "parent": city}
                    )
                    sites.append(site)

        roles = {}
        for role_name, color in ROLES.items():
            role, _ = Role.objects.get_or_create(name=role_name, defaults={"color": color})
            role.content_types.add(device_ct)
            roles[role_name] = role

        device_types = {}
        for model, (vendor, count, pattern, iface_type) in DEVICE_TYPES.items():
            manufacturer, _ = Manufacturer.objects.get_or_create(name=vendor)
            device_type, created = DeviceType.objects.get_or_create(model=model, manufacturer=manufacturer)
            if created:
                InterfaceTemplate.objects.bulk_create(
                    [
                        InterfaceTemplate(device_type=device_type, name=pattern.format(index), type=iface_type)
                        for index in range(1, count + 1)
                    ]
                )
                InterfaceTemplate.objects.create(
                    device_type=device_type, name="mgmt0", type="1000base-t", mgmt_only=True
                )
            device_types[model] = device_type

        existing = set(Device.objects.values_list("name", flat=True))
        created_devices = []
        for index in range(1, device_count + 1):
            site = sites[(index - 1) % len(sites)]
            role_name = ROLE_SHARE[(index - 1) % len(ROLE_SHARE)]
            name = f"{site.name.lower()}-{role_name}-{index:04d}"
            if name in existing:
                continue
            device = Device(
                name=name,
                device_type=device_types[ROLE_TYPES[role_name]],
                role=roles[role_name],
                location=site,
                status=active,
            )
            device.validated_save()  # creates the interfaces from the device type's templates
            created_devices.append(device)

        # Spread the new devices' interfaces over the five statuses (one UPDATE per status).
        buckets = {name: [] for name in STATUS_WEIGHTS}
        interfaces = Interface.objects.filter(device__in=created_devices).order_by("device__name", "_name")
        for pk, role_name in interfaces.values_list("pk", "device__role__name"):
            names, weights = zip(*ROLE_STATUS_WEIGHTS.get(role_name, STATUS_WEIGHTS).items(), strict=True)
            buckets[rng.choices(names, weights)[0]].append(pk)
        for status_name, pks in buckets.items():
            Interface.objects.filter(pk__in=pks).update(status=interface_statuses[status_name])
        # Spines and borders also have a LAG and a loopback (Active): the report's "physical only" leaves them out.
        Interface.objects.bulk_create(
            [
                Interface(device=device, name=name, type=iface_type, status=active)
                for device in created_devices
                if device.role.name in VIRTUAL_INTERFACE_ROLES
                for name, iface_type in (("Port-Channel1", "lag"), ("Loopback0", "virtual"))
            ]
        )
        # A few devices with no interfaces at all, which the report warns about.
        for site in sites[:2]:
            Device.objects.get_or_create(
                name=f"{site.name.lower()}-patch-panel",
                defaults={
                    "device_type": DeviceType.objects.get_or_create(
                        model="Patch Panel 24", manufacturer=Manufacturer.objects.get(name="Cisco")
                    )[0],
                    "role": roles["access"],
                    "location": site,
                    "status": active,
                },
            )

    return {
        "locations": Location.objects.count(),
        "devices": Device.objects.count(),
        "interfaces": Interface.objects.count(),
        "created_devices": len(created_devices),
    }


def main(argv=None):
    """Build the inventory, make sure the superuser exists, load the demo content; print what happened."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=300)
    parser.add_argument("--verbose", action="store_true", help="list every demo object created or changed")
    arguments = parser.parse_args(argv)
    nautobot.setup(str(CONFIG))
    summary = build(arguments.devices)
    print(
        f"    demo data: {summary['locations']} locations, {summary['devices']} devices, "
        f"{summary['interfaces']} interfaces ({summary['created_devices']} devices created now)"
    )
    bootstrap.superuser()  # the demo content is change-logged as the superuser (idempotent; `invoke start` did it)
    import demo_content  # it imports Django models, so only after nautobot.setup()

    tally = demo_content.load(os.environ["NAUTOBOT_SUPERUSER_NAME"])
    print(f"    {tally.summary()}")
    # What a later run changed back is worth reading; the first run's hundred creations only with --verbose.
    for line in tally.created + tally.updated if arguments.verbose else [] if tally.created else tally.updated:
        print(f"      {line}")


if __name__ == "__main__":
    main()
