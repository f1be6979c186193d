"""The implementation registry (fixtures/implementations.yaml): how to start
each implementation's adapter."""
import os

import yaml


class RegistryError(Exception):
    pass


def load(root):
    path = os.path.join(root, "fixtures", "implementations.yaml")
    try:
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f) or {}
    except (OSError, yaml.YAMLError) as e:
        raise RegistryError("%s: %s" % (path, e))
    impls = doc.get("implementations")
    if not isinstance(impls, dict) or not impls:
        raise RegistryError("%s: expected an 'implementations' mapping" % path)
    for name, d in impls.items():
        if not isinstance(d, dict) or not isinstance(d.get("command"), list) or not d["command"]:
            raise RegistryError("%s: implementation %r needs a non-empty 'command' list" % (path, name))
    return impls


def command(root, impl, adapter=None, variant=None):
    """(argv, adapter path) of an implementation.  adapter overrides the
    registry's program (also from $APMSOCK_ADAPTER)."""
    impls = load(root)
    if impl not in impls:
        raise RegistryError("unknown implementation %r (known: %s)" % (impl, ", ".join(sorted(impls))))
    d = impls[impl]
    variant = variant or os.environ.get("VARIANT") or "release"
    prog = adapter or os.environ.get("APMSOCK_ADAPTER") or d.get("adapter", "")
    prog = prog.replace("{variant}", variant)
    if prog and not os.path.isabs(prog):
        prog = os.path.join(root, prog)
    argv = [a.replace("{adapter}", prog).replace("{variant}", variant) for a in d["command"]]
    return argv, prog


def missing_requirement(root, impl):
    """None, or one line naming the program an implementation's command needs
    (its `requires: {program, what}`) when that program is not on PATH: the
    .NET SDK is optional on a Debian machine, and its absence must read as
    exactly that, not as an adapter that was never built."""
    import shutil
    req = (load(root).get(impl) or {}).get("requires")
    if not isinstance(req, dict) or not req.get("program"):
        return None
    if shutil.which(req["program"]):
        return None
    return "%s not found on PATH: implementation %s needs %s" % (
        req["program"], impl, req.get("what") or req["program"])
