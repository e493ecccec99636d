"""``kemu survey DIR``: how far kemu gets on every module of a tree.

Each module is loaded into a fresh kernel as ``modprobe`` would load it:
after its soft dependencies and the modules it depends on (from
``modules.dep`` when the tree has one, else from each module's ``.modinfo``),
with the tree serving the kernel's ``request_module()`` calls; then it is
unloaded. The outcome, the first
export kemu lacked and what unloading found left behind are recorded per
module, with totals and the most wanted exports.
"""
from __future__ import annotations

import collections
import errno
import json
import os
import time
from dataclasses import asdict, dataclass, field

from kemu.module import elf as E
from kemu.errors import EmulationError, InitError, KemuError, LoadError, Lockup
from kemu.module.kmodfile import is_module_file, read_module_file
from kemu.module.modprobe import ModuleTree, default_trees, find_tree, shared_tree
from kemu.target import TargetError, find_target, release_of_vermagic, resolve_target


@dataclass
class Outcome:
    """What happened to one module."""
    module: str
    path: str
    outcome: str = "ok"             # ok, load-failed, init-failed, fault, lockup, dep-failed,
    #                                 exit-failed, kemu-error
    detail: str = ""
    first_missing: str = ""
    missing: list = field(default_factory=list)
    findings: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    seconds: float = 0.0


def survey_one(name: str, tree: ModuleTree, allow_missing: bool = False,
               timeout_ms: int = 20_000, target=None) -> Outcome:
    """modprobe ``name`` into a fresh kernel (soft and hard dependencies first,
    further modules on request_module()), then unload it; report what happened."""
    from kemu.kernel.facade import Kernel
    out = Outcome(name, tree.path(name))
    t0 = time.perf_counter()
    try:
        k = Kernel(target=target, allow_missing=allow_missing, timeout_ms=timeout_ms,
                   modules=tree)
    except KemuError as exc:
        out.outcome, out.detail = "kernel-failed", str(exc)
        return out
    order = tree.modprobe_order(name)
    order = order[:order.index(name) + 1]          # post: softdeps are not needed
    hard = set(tree.depends(name))
    failed_deps = {}
    for dep in order:
        if dep in k.modules:                       # already loaded by a request
            continue
        path = tree.path(dep)
        try:
            if path is None:
                raise LoadError(f"dependency {dep} not found in the tree", errno.ENOENT)
            try:
                k.load(path)
            except KemuError as exc:
                if dep in hard:
                    raise
                # a soft dependency: modprobe goes on without it
                out.notes.append(f"soft dependency {dep} did not load ({exc})")
                continue
        except LoadError as exc:
            if dep != name:
                # a dependency that does not load is fatal only if the module then lacks
                # symbols (kemu models some exports Linux keeps in modules)
                failed_deps[dep] = exc
                continue
            out.missing = getattr(exc, "missing", [])
            out.first_missing = out.missing[0] if out.missing else ""
            out.outcome, out.detail = "load-failed", str(exc)
            if failed_deps and out.missing:
                dep_name, dep_exc = next(iter(failed_deps.items()))
                out.outcome, out.detail = "dep-failed", f"{dep_name}: {dep_exc}"
                out.missing = getattr(dep_exc, "missing", []) or out.missing
                out.first_missing = out.missing[0] if out.missing else ""
            break
        except InitError as exc:
            out.outcome = "init-failed" if dep == name else "dep-failed"
            out.detail = str(exc) if dep == name else f"{dep}: {exc}"
            break
        except Lockup as exc:
            out.outcome, out.detail = "lockup", f"{dep}: {exc}"
            break
        except EmulationError as exc:
            out.outcome, out.detail = "fault", f"{dep}: {exc}"
            break
        except KemuError as exc:
            out.outcome, out.detail = "load-failed", f"{dep}: {exc}"
            break
    else:
        for dep, exc in failed_deps.items():
            out.findings.append(f"dependency {dep} did not load ({exc}); kemu's models served")
        try:
            k.unload(name)
        except KemuError as exc:
            if getattr(exc, "errno", 0) == errno.EBUSY and not k.modules[name].exit_addr:
                out.findings.append("permanent (no exit function)")
            else:
                out.outcome, out.detail = "exit-failed", str(exc)
    out.findings += [f["message"] for f in k.findings]
    out.findings += [n for n in k.notes if "auto-stubbed" in n]
    out.seconds = time.perf_counter() - t0
    return out


def tree_root(root: str) -> str:
    """The module tree ``root`` is part of (where modules.order/.dep/.builtin live)."""
    return find_tree(root) or os.path.abspath(root)


_TREE: list = []          # the tree a forked survey worker reads


def _fallback_tree(root: str, release: str | None) -> str | None:
    """Where a dependency the surveyed tree lacks is looked for: ``--modules``/
    ``$KEMU_MODULES``, ``/lib/modules/RELEASE``, or kemu's copy of Debian's modules."""
    if release is None:
        return None
    for candidate in default_trees(release):
        if not os.path.abspath(root).startswith(os.path.join(os.path.abspath(candidate), "")) \
                and os.path.abspath(candidate) != os.path.abspath(root):
            return candidate
    return None


def _tree_release(root: str, target=None) -> str | None:
    """The release the surveyed modules were built for: the target's when one is
    given, else the vermagic of the first module under ``root`` (in name order)."""
    spec = target if target is not None else os.environ.get("KEMU_TARGET") or None
    if spec is not None:
        return resolve_target(spec).release
    for dirpath, dirs, files in os.walk(root):
        dirs.sort()                          # depth-first in name order, stopping early
        for fname in sorted(files):
            if is_module_file(fname):
                try:
                    data = read_module_file(os.path.join(dirpath, fname))
                    return release_of_vermagic(E.read_vermagic(data))
                except (OSError, KemuError):
                    continue
    return None


def survey_guarded(name: str, tree: ModuleTree, *args) -> Outcome:
    """survey_one(); an exception no kernel path raises (a bug of kemu's, such as
    a model asking the target for a name this release lacks) is that module's
    outcome, "kemu-error", rather than the end of the survey."""
    try:
        return survey_one(name, tree, *args)
    except Exception as exc:                # noqa: BLE001 - reported per module
        return Outcome(name, tree.path(name) or "", "kemu-error",
                       f"{type(exc).__name__}: {exc}")


def _survey_worker(job):
    name, allow_missing, timeout_ms, target = job
    return survey_guarded(name, _TREE[0], allow_missing, timeout_ms, target)


def survey(root: str, allow_missing: bool = False, timeout_ms: int = 20_000, progress=None,
           target=None, jobs: int = 1) -> list[Outcome]:
    """Survey every module under ``root``; dependencies may come from the whole tree.
    ``jobs`` > 1 surveys that many modules at a time in forked processes."""
    release = _tree_release(root, target)
    tree = shared_tree(tree_root(root), _fallback_tree(tree_root(root), release))
    if target is None and not os.environ.get("KEMU_TARGET") and jobs > 1 \
            and release is not None:
        try:
            find_target(release)            # described (and parsed) once, before any fork
        except TargetError:
            pass                            # each module then fails saying why
    under = os.path.join(os.path.abspath(root), "")
    names = sorted(n for n, e in tree.entries.items()
                   if os.path.abspath(e.path).startswith(under))
    return survey_modules(tree, names, allow_missing, timeout_ms, progress, target, jobs)


def survey_modules(tree: ModuleTree, names: list, allow_missing: bool = False,
                   timeout_ms: int = 20_000, progress=None, target=None,
                   jobs: int = 1) -> list[Outcome]:
    """Survey the modules ``names`` of ``tree``, in that order."""
    results = []
    jobs_list = [(name, allow_missing, timeout_ms, target) for name in names]
    tree.build_index()                          # once, before any fork
    if jobs > 1 and len(names) > 1:
        import multiprocessing
        _TREE[:] = [tree]
        with multiprocessing.get_context("fork").Pool(jobs, maxtasksperchild=50) as pool:
            for i, res in enumerate(pool.imap(_survey_worker, jobs_list)):
                results.append(res)
                if progress:
                    progress(i + 1, len(names), res)
        return results
    for i, job in enumerate(jobs_list):
        res = survey_guarded(job[0], tree, *job[1:])
        results.append(res)
        if progress:
            progress(i + 1, len(names), res)
    return results


# directories whose subdirectories are categories of their own (drivers/net, net/netfilter)
SPLIT_DIRS = ("arch", "drivers", "net", "sound")


def category_of(path: str, root: str) -> str:
    """The category of a module: its directory under ``root``, two levels deep
    under drivers/, net/, sound/ and arch/ (``drivers/iio``), else one (``fs``)."""
    rel = os.path.relpath(os.path.dirname(os.path.abspath(path)), os.path.abspath(root))
    parts = [] if rel == "." else rel.split(os.sep)
    if not parts or parts[0] == "..":
        return "."
    return "/".join(parts[:2] if parts[0] in SPLIT_DIRS and len(parts) > 1 else parts[:1])


def is_clean(r: Outcome) -> bool:
    """Loaded, initialised and unloaded with nothing found (strict mode)."""
    return r.outcome == "ok" and not r.findings


def summarize(results: list[Outcome], root: str | None = None) -> dict:
    """Totals by outcome, the most wanted missing exports and, given the surveyed
    ``root``, the same per category (largest first)."""
    totals = collections.Counter(r.outcome for r in results)
    wanted = collections.Counter(m for r in results for m in set(r.missing))
    out = {"modules": len(results), "totals": dict(totals),
           "clean": sum(map(is_clean, results)), "most_wanted": wanted.most_common(25)}
    if root is not None:
        cats: dict = {}
        for r in results:
            c = cats.setdefault(category_of(r.path, root), {"modules": 0, "ok": 0, "clean": 0})
            c["modules"] += 1
            c["ok"] += r.outcome == "ok"
            c["clean"] += is_clean(r)
        out["categories"] = dict(sorted(cats.items(), key=lambda kv: (-kv[1]["modules"], kv[0])))
    return out


def to_json(results: list[Outcome], root: str | None = None) -> str:
    """The survey as JSON: per-module outcomes and the summary."""
    return json.dumps({"summary": summarize(results, root),
                       "modules": [asdict(r) for r in results]}, indent=1)
