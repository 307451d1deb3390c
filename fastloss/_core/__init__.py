"""The Python core: loss base classes, the one reduction, validation, threads."""
