"""Coverage of Debian's real modules by category must not regress (bench/coverage.py).

Each category is surveyed as issue 4's held-out check would: every module
modprobed into a fresh kernel in strict mode, initialised and unloaded; a
module counts when that worked with no findings. The floors are the figures
measured when they were last raised, minus nothing: a model that breaks a
module that worked fails this test with the module's name and what happened.
"""
import importlib.util
import pathlib

import pytest

from kemu.survey import shared_tree, survey_modules, tree_root

ROOT = pathlib.Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("coverage_bench", ROOT / "bench/coverage.py")
coverage = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(coverage)

# category -> modules that must be clean (at least this many of the category's)
FLOORS = {
    "crypto algorithms": 93,
    "CRC libraries": 16,
    "NLS tables": 51,
    "filesystems": 47,
    "netfilter matches": 65,
    "misc drivers": 39,
    "char drivers": 18,
}


@pytest.fixture(scope="module")
def tree(debian_modules):
    return shared_tree(tree_root(str(debian_modules)))


@pytest.mark.parametrize("category", sorted(FLOORS))
def test_category_floor(debian_modules, tree, category):
    names = coverage.category_names(str(debian_modules), coverage.CATEGORIES[category], tree)
    results = survey_modules(tree, names, jobs=2)
    clean = [r for r in results if r.outcome == "ok" and not r.findings]
    failed = {r.module: f"{r.outcome}: {r.first_missing or r.detail[:120]} {r.findings[:2]}"
              for r in results if r not in clean}
    assert len(clean) >= FLOORS[category], \
        f"{category}: {len(clean)} of {len(results)} clean, floor {FLOORS[category]}; " \
        f"not clean: {failed}"
