"""Coverage-guided fuzzing of the ELF parsing and the loader steps (atheris).

kemu.module.elf, kemu.module.loader, kemu.module.reloc and kemu.module.params are instrumented; each input
is a module image loaded into a kemu kernel (init runs; a module that loads is
unloaded). kemu's own reported errors (any KemuError but a ModelError) are
answers; any other exception is a crash, which atheris saves as
``crash-<sha1>`` (keep it under tests/fuzz/crashes/ with a regression test).

    pip install atheris
    python3 tests/fuzz/atheris_loader.py CORPUS_DIR -max_total_time=600

CORPUS_DIR is seeded with testmods/*.ko when empty. Inputs run in one
process: the kernel is renewed every 50 inputs.
"""
from __future__ import annotations

import gc
import pathlib
import shutil
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import atheris  # noqa: E402

with atheris.instrument_imports(include=["kemu.module.elf", "kemu.module.loader", "kemu.module.reloc",
                                         "kemu.module.params"]):
    from kemu import Kernel
    from kemu.errors import KemuError, ModelError

_state = {"k": None, "n": 0}


def _kernel():
    if _state["k"] is None or _state["n"] >= 50:
        _state["k"] = None
        gc.collect()
        _state["k"] = Kernel(timeout_ms=500, modules=False)
        _state["n"] = 0
    _state["n"] += 1
    return _state["k"]


def test_one_input(data: bytes) -> None:
    k = _kernel()
    try:
        mod = k.load("fuzz.ko", data=data)
    except ModelError:
        raise
    except KemuError:
        _state["k"] = None if k.bug.oops_count else k
        return
    try:
        k.unload(mod)
    except ModelError:
        raise
    except KemuError:
        _state["k"] = None


def main() -> None:
    corpus = next((a for a in sys.argv[1:] if not a.startswith("-")), None)
    if corpus is not None:
        path = pathlib.Path(corpus)
        path.mkdir(parents=True, exist_ok=True)
        if not any(path.iterdir()):
            for ko in sorted((ROOT / "testmods").glob("*.ko")):
                shutil.copy(ko, path / ko.name)
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
