"""The ``bulwark`` command: the only place that prints for humans."""
