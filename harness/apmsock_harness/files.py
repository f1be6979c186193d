"""Output files written whole or not at all, and the YAML reader."""

import os

import yaml

# libyaml's loader when PyYAML was built with it (Debian's is): the same
# documents as yaml.safe_load, several times faster on the catalogue and the
# baselines that every harness worker and report step reads.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(stream):
    """yaml.safe_load, through libyaml when it is there."""
    return yaml.load(stream, Loader=_YAML_LOADER)


def write_file(path, text):
    """Writes atomically (a temporary file renamed over it) when path is a
    regular file or new; anything else (/dev/null, a FIFO) is written in
    place: renaming over a device would replace it."""
    if os.path.exists(path) and not os.path.isfile(path):
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
