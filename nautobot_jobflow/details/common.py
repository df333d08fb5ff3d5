"""What the detail layouts of several capabilities share: value transforms and a state-dependent POST button."""

from django.utils.html import format_html_join
from nautobot.apps.ui import PostButton
from nautobot.core.templatetags import helpers


def pretty_json(value):
    """A fields-panel value transform: a JSON value pretty-printed, core's placeholder when it is empty."""
    return helpers.render_json(value, pretty_print=True) if value else helpers.placeholder(None)


def linked_objects(empty=None):
    """A fields-panel value transform: a related manager's objects as links (core would print "extras.Job.None").

    ``empty``: what to show when there are none (default: core's muted placeholder).
    """

    def render(manager):
        objects = list(manager.all())
        if not objects:
            return helpers.placeholder(None) if empty is None else empty
        return format_html_join(", ", "{}", ((helpers.hyperlinked_object(obj),) for obj in objects))

    return render


class ConditionalPostButton(PostButton):
    """A POST button rendered only when ``condition(obj)`` is true (and the user has its permissions)."""

    condition = None

    def should_render(self, context):
        """Permissions, then the object's state."""
        if not super().should_render(context):
            return False
        obj = context.get("object")
        return obj is not None and (self.condition is None or self.condition(obj))
