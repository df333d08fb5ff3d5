"""Code without ORM access: the Jinja2 sandbox, conditions, graphs, JSON Schema, object filters, errors."""
