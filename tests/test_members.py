"""Struct members declared next to the models that read them are collected by
the description generator (kemu/target/gen.py), so a new model does not edit a
central list."""
from kemu.target import load_target
from kemu.target.gen import STRUCTS, all_structs, declared_members


def test_models_declarations_are_collected():
    declared = declared_members()
    assert declared["miscdevice"][:3] == ["minor", "name", "fops"]     # stubs/drivers/char/misc.py
    assert "cdev" in declared and "kobject" in declared
    assert "miscdevice" not in STRUCTS                                   # not in the central list
    assert all_structs()["miscdevice"] == declared["miscdevice"]


def test_declared_members_are_in_the_shipped_description():
    t = load_target("6.1.0-56-amd64")
    for struct, names in declared_members().items():
        for name in names:
            assert any(t.has_offset(f"{struct}.{alt}") for alt in name.split("|")), \
                f"{struct}.{name}"
