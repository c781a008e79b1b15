"""Built-in detectors, one per module; :data:`bulwark.detect.registry.BUILTINS` lists them."""
