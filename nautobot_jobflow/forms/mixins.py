"""What the forms of several capabilities share."""

from django.core.exceptions import FieldDoesNotExist
from django.utils.html import escape


class PlainModelHelpTextMixin:
    """Escape the help texts a form takes from the app's models, as Nautobot renders help text unescaped (``|safe``).

    The app's model help texts are plain text and some name placeholders such as ``steps.<name>.result``, which a
    browser would otherwise read as an HTML tag and drop. Help texts given to a form field directly (core's, with
    their links) are left alone.
    """

    def __init__(self, *args, **kwargs):
        """Escape each field's help text that is its model field's."""
        super().__init__(*args, **kwargs)
        model = self._meta.model
        for name, field in self.fields.items():
            try:
                model_help_text = model._meta.get_field(name).help_text
            except FieldDoesNotExist:
                continue
            if model_help_text and str(field.help_text) == str(model_help_text):
                field.help_text = escape(model_help_text)
