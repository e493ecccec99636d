"""``kemu survey DIR``: how far kemu gets on every module of a tree.

Each module is loaded into a fresh kernel, after the modules it depends on
(from ``modules.dep`` when the tree has one, else from each module's
``.modinfo depends=``), initialised, then unloaded. The outcome, the first
export kemu lacked and what unloading found left behind are recorded per
module, with totals and the most wanted exports.
"""
from __future__ import annotations

import collections
import json
import os
import time
from dataclasses import asdict, dataclass, field

from . import elf as E
from .errors import EmulationError, InitError, KemuError, LoadError, Lockup


@dataclass
class Outcome:
    """What happened to one module."""
    module: str
    path: str
    outcome: str = "ok"             # ok, load-failed, init-failed, fault, lockup, dep-failed, exit-failed
    detail: str = ""
    first_missing: str = ""
    missing: list = field(default_factory=list)
    findings: list = field(default_factory=list)
    seconds: float = 0.0


def _modinfo(path: str) -> dict:
    with open(path, "rb") as fh:
        data = fh.read()
    body, _ = E.module_sig_check(data, lambda *a: None)
    image = E.elf_validity_check(body, lambda *a: None)
    idx = image.find_any_sec(".modinfo")
    info = {}
    for key, value in E.parse_modinfo(image.section_data(idx)) if idx else []:
        info.setdefault(key, value)
    return info


def index_tree(root: str) -> tuple[dict, dict]:
    """Module name -> path, and module name -> names it depends on."""
    paths, deps = {}, {}
    for dirpath, _dirs, files in os.walk(root):
        for fname in files:
            if fname.endswith(".ko"):
                path = os.path.join(dirpath, fname)
                paths[fname[:-3].replace("-", "_")] = path
    depfile = _find_modules_dep(root)
    if depfile:
        base = os.path.dirname(depfile)
        with open(depfile) as fh:
            for line in fh:
                mod, _, rest = line.partition(":")
                name = os.path.basename(mod.strip())[:-3].replace("-", "_")
                deps[name] = [os.path.basename(d)[:-3].replace("-", "_") for d in rest.split()]
                full = os.path.join(base, mod.strip())
                if name not in paths and os.path.exists(full):
                    paths[name] = full
    else:
        for name, path in paths.items():
            try:
                dep = _modinfo(path).get("depends", "")
            except KemuError:
                dep = ""
            deps[name] = [d.replace("-", "_") for d in dep.split(",") if d]
    return paths, deps


def _find_modules_dep(root: str) -> str | None:
    probe = os.path.abspath(root)
    while True:
        candidate = os.path.join(probe, "modules.dep")
        if os.path.exists(candidate):
            return candidate
        parent = os.path.dirname(probe)
        if parent == probe or os.path.basename(probe) == "modules":
            return None
        probe = parent


def load_order(name: str, deps: dict) -> list[str]:
    """Dependencies first (depth-first), each once, ``name`` last."""
    order, seen = [], set()

    def visit(n):
        if n in seen:
            return
        seen.add(n)
        for d in deps.get(n, []):
            visit(d)
        order.append(n)
    visit(name)
    return order


def survey_one(name: str, paths: dict, deps: dict, allow_missing: bool = False,
               timeout_ms: int = 5000, target=None) -> Outcome:
    """Load deps and ``name`` into a fresh kernel, init, unload; report what happened."""
    from .kernel import Kernel
    out = Outcome(name, paths[name])
    t0 = time.perf_counter()
    try:
        k = Kernel(target=target, allow_missing=allow_missing, timeout_ms=timeout_ms)
    except KemuError as exc:
        out.outcome, out.detail = "kernel-failed", str(exc)
        return out
    order = load_order(name, deps)
    failed_deps = {}
    for dep in order:
        path = paths.get(dep)
        try:
            if path is None:
                raise LoadError(f"dependency {dep} not found in the tree", 2)
            k.load(path)
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
            if getattr(exc, "errno", 0) == 16 and not k.modules[name].exit_addr:
                out.findings.append("permanent (no exit function)")
            else:
                out.outcome, out.detail = "exit-failed", str(exc)
    out.findings += [f["message"] for f in k.findings]
    out.findings += [n for n in k.notes if "auto-stubbed" in n]
    out.seconds = time.perf_counter() - t0
    return out


def tree_root(root: str) -> str:
    """The module tree ``root`` is part of (where modules.order/.dep/.builtin live)."""
    probe = os.path.abspath(root)
    while True:
        if any(os.path.exists(os.path.join(probe, f))
               for f in ("modules.dep", "modules.order", "modules.builtin")):
            return probe
        parent = os.path.dirname(probe)
        if parent == probe:
            return os.path.abspath(root)
        probe = parent


def survey(root: str, allow_missing: bool = False, timeout_ms: int = 5000, progress=None,
           target=None) -> list[Outcome]:
    """Survey every module under ``root``; dependencies may come from the whole tree."""
    paths, deps = index_tree(tree_root(root))
    under = os.path.abspath(root)
    names = sorted(n for n, p in paths.items() if os.path.abspath(p).startswith(under))
    results = []
    for i, name in enumerate(names):
        res = survey_one(name, paths, deps, allow_missing, timeout_ms, target)
        results.append(res)
        if progress:
            progress(i + 1, len(names), res)
    return results


def summarize(results: list[Outcome]) -> dict:
    """Totals by outcome and the most wanted missing exports."""
    totals = collections.Counter(r.outcome for r in results)
    wanted = collections.Counter(m for r in results for m in set(r.missing))
    return {"modules": len(results), "totals": dict(totals),
            "most_wanted": wanted.most_common(25)}


def to_json(results: list[Outcome]) -> str:
    """The survey as JSON: per-module outcomes and the summary."""
    return json.dumps({"summary": summarize(results), "modules": [asdict(r) for r in results]},
                      indent=1)
