"""cachelint: find cache-safety mistakes in Django projects without running them."""

__version__ = "0.2.0"
