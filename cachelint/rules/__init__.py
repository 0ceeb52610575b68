"""One module per rule; each registers itself with ``@register`` and is found by pkgutil."""
