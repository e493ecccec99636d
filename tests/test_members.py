"""Struct members declared next to the models that read them are collected by
the description generator (kemu/target/gen.py), so a new model does not edit a
central list."""
from kemu.target import load_target
from kemu.target.lines import line_of
from kemu.target.gen import STRUCTS, all_structs, declared_members


def test_models_declarations_are_collected():
    declared = declared_members()
    assert declared["miscdevice"][:3] == ["minor", "name", "fops"]     # stubs/drivers/char/misc.py
    assert "cdev" in declared and "kobject" in declared
    assert "miscdevice" not in STRUCTS                                   # not in the central list
    assert all_structs()["miscdevice"] == declared["miscdevice"]


def test_declared_members_are_in_the_shipped_description():
    """Each is in 6.1's description, unless 6.1 does not have it (kemu/target/lines.py)."""
    t = load_target("6.1.0-56-amd64")
    absent = line_of("6.1").absent
    for struct, names in declared_members().items():
        for name in names:
            assert any(t.has_offset(f"{struct}.{alt}") or f"{struct}.{alt}" in t.data["bitfields"]
                       for alt in name.split("|")) \
                or f"{struct}.{name}" in absent or struct in absent, f"{struct}.{name}"


def test_every_member_a_model_names_is_declared():
    """A "struct.member" a model names (rd/wr/offset) is collected: declared with
    members() next to a model, or in STRUCTS where kemu's core reads it too. The
    members the migration from STRUCTS moved are declared in each file that reads them."""
    import ast
    import pathlib
    import re
    import kemu.stubs
    structs = all_structs()
    collected = {s: {n.split("|")[0].split(".")[0] for n in names} for s, names in structs.items()}
    literal = re.compile(r"^([a-z_0-9]+)\.([a-z_0-9]+)")
    undeclared = []
    for path in sorted(pathlib.Path(kemu.stubs.__file__).parent.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not (
                    getattr(node.func, "id", None) in ("rd", "wr")
                    or getattr(node.func, "attr", None) == "offset"):
                continue
            for arg in node.args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    m = literal.match(arg.value)
                    if m and m.group(1) in structs and m.group(2) not in collected[m.group(1)]:
                        undeclared.append(f"{path.name}: {arg.value}")
    assert not undeclared, undeclared[:20]
