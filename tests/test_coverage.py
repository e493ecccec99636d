"""Coverage of Debian's real modules by category must not regress (bench/coverage.py).

Each category is surveyed as issue 4's held-out check would: every module
modprobed into a fresh kernel in strict mode, initialised and unloaded; a
module counts when that worked with no findings. tests/expected/coverage/
clean.json names the modules that were clean when the floors were last raised
(``python3 bench/coverage.py --json F`` gives them as ``clean_modules``). Each
of them that the fetched package has must still be clean, so the floor counts
only modules that package ships (point releases add and drop a few): a model
that breaks a module fails this test with the module's name and what happened.
"""
import importlib.util
import json
import pathlib

import pytest

from kemu.survey import shared_tree, survey_modules, tree_root

ROOT = pathlib.Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("coverage_bench", ROOT / "bench/coverage.py")
coverage = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(coverage)

# category -> the modules that must be clean, where the package has them
CLEAN = json.loads((ROOT / "tests/expected/coverage/clean.json").read_text())


@pytest.fixture(scope="module")
def tree(debian_modules):
    return shared_tree(tree_root(str(debian_modules)))


@pytest.mark.parametrize("category", sorted(CLEAN))
def test_category_floor(debian_modules, tree, category):
    names = coverage.category_names(str(debian_modules), coverage.CATEGORIES[category], tree)
    floor = [name for name in CLEAN[category] if name in names]
    # a point release drops a module or two, never a tenth of a category
    assert len(floor) >= 0.9 * len(CLEAN[category]), \
        f"{category}: the package has only {len(floor)} of {len(CLEAN[category])} modules"
    results = survey_modules(tree, names, jobs=2)
    clean = {r.module for r in results if r.outcome == "ok" and not r.findings}
    failed = {r.module: f"{r.outcome}: {r.first_missing or r.detail[:120]} {r.findings[:2]}"
              for r in results if r.module in floor and r.module not in clean}
    assert not failed, f"{category}: {len(clean)} of {len(results)} clean; " \
        f"no longer clean: {failed}"
