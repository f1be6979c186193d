"""The implementation registry (fixtures/implementations.yaml): how to start
each implementation's adapter, and implementations that live outside the
suite (`conform --impl-file PATH`, `conform --impl NAME --adapter-cmd CMD`).

An entry (in the registry, or alone in an --impl-file):

    description: "..."
    adapter: "path/of/the/program"     # {adapter} in command; optional
    command: ["{adapter}", "--flag"]   # how to start it
    build: "how to build it"           # shown when the program is missing
    features: [trace_env]              # beyond the protocol's capabilities
    baseline: "mine.yaml"              # --impl-file only: its default baseline
    id: myimpl                         # --impl-file only: the name (default: --impl, else the file's stem)

Registry paths are relative to the project root; an --impl-file's paths are
relative to the file's folder, and its adapter starts in that folder.
"""
import os
import shlex

import yaml

from .files import load_yaml


class RegistryError(Exception):
    pass


class Impl:
    """What the harness needs to start one implementation's adapter.
    outside: it is not in the registry (no baseline in fixtures/baselines)."""

    def __init__(self, name, argv, prog, cwd, features=(), build=None, baseline=None,
                 outside=False, source=None):
        self.name, self.argv, self.prog, self.cwd = name, argv, prog, cwd
        self.features = set(features or ())
        self.build, self.baseline, self.outside = build, baseline, outside
        self.source = source or {}   # how it was given: {"impl_file": p} or {"adapter_cmd": c}


def load(root):
    path = os.path.join(root, "fixtures", "implementations.yaml")
    try:
        with open(path, encoding="utf-8") as f:
            doc = load_yaml(f) or {}
    except (OSError, yaml.YAMLError) as e:
        raise RegistryError("%s: %s" % (path, e))
    impls = doc.get("implementations")
    if not isinstance(impls, dict) or not impls:
        raise RegistryError("%s: expected an 'implementations' mapping" % path)
    for name, d in impls.items():
        _check_entry(d, "%s: implementation %r" % (path, name))
    return impls


def _check_entry(d, where):
    if not isinstance(d, dict) or not isinstance(d.get("command"), list) or not d["command"] \
            or not all(isinstance(a, str) for a in d["command"]):
        raise RegistryError("%s needs a non-empty 'command' list of strings" % where)
    if not isinstance(d.get("features") or [], list):
        raise RegistryError("%s: 'features' must be a list" % where)


def _variant(variant):
    return variant or os.environ.get("VARIANT") or "release"


def _argv(entry, base, adapter, variant):
    prog = adapter or os.environ.get("APMSOCK_ADAPTER") or entry.get("adapter", "")
    prog = prog.replace("{variant}", variant)
    if prog and not os.path.isabs(prog):
        prog = os.path.join(base, prog)
    argv = [a.replace("{adapter}", prog).replace("{variant}", variant) for a in entry["command"]]
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


def command(root, impl, adapter=None, variant=None):
    """(argv, adapter path) of a registered implementation.  adapter
    overrides the registry's program (also from $APMSOCK_ADAPTER)."""
    impls = load(root)
    if impl not in impls:
        raise RegistryError("unknown implementation %r (known: %s; or give --impl-file PATH or "
                            "--adapter-cmd CMD)" % (impl, ", ".join(sorted(impls))))
    return _argv(impls[impl], root, adapter, _variant(variant))


def load_impl_file(path):
    """One entry, alone in a YAML file anywhere on disk."""
    try:
        with open(path, encoding="utf-8") as f:
            d = load_yaml(f)
    except OSError as e:
        raise RegistryError("--impl-file %s: cannot read: %s" % (path, e.strerror))
    except yaml.YAMLError as e:
        raise RegistryError("--impl-file %s: not YAML: %s" % (path, str(e).splitlines()[0]))
    _check_entry(d, "--impl-file %s" % path)
    return d


def resolve(root, impl=None, adapter=None, impl_file=None, adapter_cmd=None, variant=None, cwd=None):
    """The Impl to run.  --impl-file wins; --adapter-cmd replaces the
    command of a registered implementation of that name, or names one
    outside the suite (started in cwd, default the current folder: where
    the user typed it); otherwise the registry (and --adapter)."""
    variant = _variant(variant)
    if impl_file:
        path = os.path.abspath(impl_file)
        d = load_impl_file(path)
        base = os.path.dirname(path)
        name = impl or d.get("id") or os.path.splitext(os.path.basename(path))[0]
        argv, prog = _argv(d, base, adapter, variant)
        # a relative program in command (./run.sh) is the file's folder's
        if argv and os.sep in argv[0] and not os.path.isabs(argv[0]):
            argv[0] = os.path.join(base, argv[0])
        bl = d.get("baseline")
        return Impl(name, argv, prog or argv[0], base, d.get("features"), d.get("build"),
                    os.path.join(base, bl) if bl else None, outside=True, source={"impl_file": path})
    if adapter_cmd is not None:
        try:
            argv = shlex.split(adapter_cmd)
        except ValueError as e:
            raise RegistryError("--adapter-cmd %r: %s" % (adapter_cmd, e))
        if not argv:
            raise RegistryError("--adapter-cmd is empty")
        if not impl:
            raise RegistryError("--adapter-cmd needs --impl NAME (the name its results go by)")
        known = load(root)
        d = known.get(impl, {})
        return Impl(impl, argv, argv[0], cwd or os.getcwd(), d.get("features"), d.get("build"),
                    None, outside=impl not in known, source={"adapter_cmd": adapter_cmd})
    name = impl or "reference"
    impls = load(root)
    argv, prog = command(root, name, adapter, variant)
    d = impls[name]
    return Impl(name, argv, prog, root, d.get("features"), d.get("build"))


def program_missing(impl):
    """A usage error line when the adapter's program does not exist, else None."""
    prog = impl.prog
    if not prog:
        return None
    if os.sep not in prog:   # a bare name: looked up on PATH
        import shutil
        if shutil.which(prog):
            return None
        return "adapter program %s is not on PATH" % prog
    if os.path.exists(prog if os.path.isabs(prog) else os.path.join(impl.cwd, prog)):
        return None
    return "adapter %s does not exist; build it first (%s)" % (
        prog, impl.build or "see fixtures/implementations.yaml")
