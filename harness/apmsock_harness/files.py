"""Output files written whole or not at all."""

import os


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
