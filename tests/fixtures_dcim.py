"""Builders of DCIM test data for the utilization report: locations, roles, devices, interfaces, modules.

Devices and interfaces are created with ``bulk_create`` so that hundreds of devices take a fraction of a second.
"""

import itertools
import random

from django.contrib.contenttypes.models import ContentType
from nautobot.dcim.models import (
    Device,
    DeviceType,
    Interface,
    Location,
    LocationType,
    Manufacturer,
    Module,
    ModuleBay,
    ModuleType,
)
from nautobot.extras.models import Role, Status

INTERFACE_STATUSES = ("Active", "Failed", "Maintenance", "Decommissioning", "Planned")
_counter = itertools.count(1)


def status(name, content_types=("dcim.interface",)):
    """A Status by name (created if missing) usable on the given content types."""
    obj, _ = Status.objects.get_or_create(name=name)
    for label in content_types:
        app_label, model = label.split(".")
        obj.content_types.add(ContentType.objects.get_by_natural_key(app_label, model))
    return obj


def create_location_tree(prefix="T"):
    """Region > City > two Sites, plus a second Region with one City and Site. Returns a dict by short name.

    Keys: ``region``, ``city``, ``site_a``, ``site_b``, ``other_region``, ``other_city``, ``other_site``.
    """
    device_ct = ContentType.objects.get_for_model(Device)
    region_type, _ = LocationType.objects.get_or_create(name=f"{prefix} Region", defaults={"nestable": True})
    city_type, _ = LocationType.objects.get_or_create(name=f"{prefix} City", defaults={"parent": region_type})
    site_type, _ = LocationType.objects.get_or_create(name=f"{prefix} Site", defaults={"parent": city_type})
    for location_type in (region_type, city_type, site_type):
        location_type.content_types.add(device_ct)
    active = status("Active", ("dcim.location", "dcim.device", "dcim.interface", "dcim.module"))

    def location(name, location_type, parent=None):
        return Location.objects.create(
            name=f"{prefix} {name}", location_type=location_type, parent=parent, status=active
        )

    tree = {"region": location(f"Region {next(_counter)}", region_type)}
    tree["city"] = location(f"City {next(_counter)}", city_type, tree["region"])
    tree["site_a"] = location(f"Site A{next(_counter)}", site_type, tree["city"])
    tree["site_b"] = location(f"Site B{next(_counter)}", site_type, tree["city"])
    tree["other_region"] = location(f"Region {next(_counter)}", region_type)
    tree["other_city"] = location(f"City {next(_counter)}", city_type, tree["other_region"])
    tree["other_site"] = location(f"Site {next(_counter)}", site_type, tree["other_city"])
    return tree


def role(name):
    """A device Role by name (created if missing)."""
    obj, _ = Role.objects.get_or_create(name=name, defaults={"color": "2196f3"})
    obj.content_types.add(ContentType.objects.get_for_model(Device))
    return obj


def device_type(model="Test Switch 48", manufacturer="Test Vendor"):
    """A DeviceType without interface templates (interfaces are added explicitly)."""
    vendor, _ = Manufacturer.objects.get_or_create(name=manufacturer)
    obj, _ = DeviceType.objects.get_or_create(model=model, manufacturer=vendor)
    return obj


def create_devices(count, location, device_role, prefix="dev", dtype=None):
    """``count`` devices at ``location`` with ``device_role`` (bulk_create, no interfaces). Returns them."""
    dtype = dtype or device_type()
    active = status("Active", ("dcim.device",))
    start = next(_counter)
    devices = [
        Device(
            name=f"{prefix}-{start}-{index:04d}",
            device_type=dtype,
            role=device_role,
            location=location,
            status=active,
        )
        for index in range(count)
    ]
    return Device.objects.bulk_create(devices)


def add_interfaces(devices, statuses, interface_type="1000base-t", prefix="eth"):
    """Give every device interfaces by status name, e.g. ``{"Active": 3, "Planned": 1}`` (one bulk_create)."""
    status_objects = {name: status(name) for name in statuses}
    interfaces = []
    for device in devices:
        index = itertools.count(next(_counter) * 1000)
        for status_name, count in statuses.items():
            interfaces.extend(
                Interface(
                    device=device,
                    name=f"{prefix}{next(index)}",
                    type=interface_type,
                    status=status_objects[status_name],
                )
                for _ in range(count)
            )
    Interface.objects.bulk_create(interfaces, batch_size=5000)
    return interfaces


def add_random_interfaces(devices, per_device, seed=7, weights=None):
    """``per_device`` interfaces on each device with random statuses (one bulk_create). Returns the count by status."""
    rng = random.Random(seed)
    weights = weights or {"Active": 60, "Planned": 15, "Decommissioning": 8, "Maintenance": 7, "Failed": 5}
    names, values = zip(*weights.items(), strict=True)
    status_objects = {name: status(name) for name in names}
    interfaces, counts = [], dict.fromkeys(names, 0)
    for device in devices:
        for index in range(per_device):
            name = rng.choices(names, values)[0]
            counts[name] += 1
            interfaces.append(
                Interface(device=device, name=f"eth{index}", type="1000base-t", status=status_objects[name])
            )
    Interface.objects.bulk_create(interfaces, batch_size=5000)
    return counts


def install_module(device, interface_statuses, nested_interface_statuses=None):
    """Install a module in a new bay of ``device`` with interfaces by status; optionally a nested module too.

    Uses the models' own ``save()`` so that Nautobot sets the root device on the modules' interfaces.
    """
    active = status("Active", ("dcim.module",))
    vendor = device.device_type.manufacturer
    module_type, _ = ModuleType.objects.get_or_create(model="Test Line Card", manufacturer=vendor)
    bay = ModuleBay.objects.create(parent_device=device, name=f"slot{next(_counter)}")
    module = Module.objects.create(module_type=module_type, parent_module_bay=bay, status=active)
    _module_interfaces(module, interface_statuses, "lc")
    if nested_interface_statuses:
        nested_bay = ModuleBay.objects.create(parent_module=module, name=f"sub{next(_counter)}")
        nested = Module.objects.create(module_type=module_type, parent_module_bay=nested_bay, status=active)
        _module_interfaces(nested, nested_interface_statuses, "sub")
    return module


def _module_interfaces(module, statuses, prefix):
    index = itertools.count(1)
    for status_name, count in statuses.items():
        for _ in range(count):
            Interface.objects.create(
                module=module, name=f"{prefix}{next(index)}", type="10gbase-x-sfpp", status=status(status_name)
            )
