"""Headless Chromium from the standard library: the rendered DOM and a screenshot of a page."""

import os
import shutil
import subprocess
import tempfile

CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--allow-file-access-from-files")
TIMEOUT_S = 120


def find():
    env = os.environ.get("CHROMIUM")
    for c in ((env,) if env else ()) + CANDIDATES:
        if c and os.access(c, os.X_OK):
            return c
    return None


def _run(binary, url, extra):
    profile = tempfile.mkdtemp(prefix="apm-chromium-")
    try:
        p = subprocess.run([binary, *FLAGS, "--user-data-dir=" + profile, *extra, url],
                           capture_output=True, text=True, timeout=TIMEOUT_S)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return p


def dump_dom(binary, path):
    """The DOM after Chromium loaded and laid out the page (raises on failure)."""
    p = _run(binary, "file://" + os.path.abspath(path), ["--dump-dom"])
    if p.returncode != 0 or "<html" not in p.stdout:
        raise RuntimeError("chromium --dump-dom %s failed (exit %d): %s" % (path, p.returncode, p.stderr[-2000:]))
    return p.stdout


def screenshot(binary, path, png, size=(1400, 3000)):
    if os.path.exists(png):
        os.remove(png)
    p = _run(binary, "file://" + os.path.abspath(path),
             ["--screenshot=" + os.path.abspath(png), "--window-size=%d,%d" % size, "--hide-scrollbars"])
    if p.returncode != 0 or not os.path.exists(png):
        raise RuntimeError("chromium --screenshot %s failed (exit %d): %s" % (path, p.returncode, p.stderr[-2000:]))
    return png


def png_size(png):
    with open(png, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("%s is not a PNG" % png)
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
