"""Line coverage of module code: executed basic blocks mapped to DWARF lines, as lcov.

What gcov-kernel (kernel/gcov/) gives a kernel built with ``CONFIG_GCOV_KERNEL``
and modules built with ``-fprofile-arcs`` — which a distribution kernel and
its modules never are — kemu measures from the outside: while coverage is on,
one Unicorn ``UC_HOOK_BLOCK`` covers each module's text (core and init, never
anything else), and a native callback (a few host instructions, assembled
with keystone) counts each translated block's executions and keeps its size,
so the cost stays small on CPU-bound code. At harvest, a block executed c
times executed every instruction in it c times; a source line's count is the
largest count of the line-table rows (``is_stmt``) it has, so a line never
reached is counted 0. Functions (lcov ``FN``) are the DWARF subprograms with
code, counted at their entry.

Branches (lcov ``BRDA``) are written where the block counts determine them:
a conditional jump's fall-through instruction that no other jump targets
(capstone reads the jumps) began a block exactly as often as the jump fell
through, and the jump was taken the rest of the times it ran.

Left out: the edges of other branches (Unicorn reports blocks, not the edges
between them), lines of kernel headers (only files in the directories of
the module's own compilation units are reported), and counts of code that
ran before coverage was switched on.
"""
from __future__ import annotations

import bisect
import ctypes
import io
import os
import platform
import re

from kemu.module.module import ModuleState

# The host-side block hook (System V x86_64): fn(uc, address, size, user_data),
# user_data -> {u64 base, u64 length, u64 *counts, u32 *sizes} of one text region.
_NATIVE_HOOK = """
    mov rax, rsi
    sub rax, qword ptr [rcx]
    cmp rax, qword ptr [rcx + 8]
    jae done
    mov r8, qword ptr [rcx + 16]
    inc qword ptr [r8 + rax*8]
    mov r8, qword ptr [rcx + 24]
    mov dword ptr [r8 + rax*4], edx
done:
    ret
"""
_native = []                     # [address of the assembled hook, its mapping]: built once


def _native_hook() -> int | None:
    """The address of the native block hook, or None when the host is not x86_64."""
    if not _native:
        addr = None
        if platform.machine().lower() in ("x86_64", "amd64"):
            import mmap
            import keystone
            code = bytes(keystone.Ks(keystone.KS_ARCH_X86, keystone.KS_MODE_64)
                         .asm(_NATIVE_HOOK, 0)[0])
            page = mmap.mmap(-1, mmap.PAGESIZE,
                             prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
            page.write(code)
            addr = ctypes.addressof(ctypes.c_char.from_buffer(page))
            _native.append(page)
        _native.insert(0, addr)
    return _native[0]


class _Region:
    """One hooked text range of a module and its per-byte counters."""

    def __init__(self, machine, mod, base: int, size: int):
        from unicorn import UC_HOOK_BLOCK
        from unicorn.unicorn_py3 import unicorn as binding
        self.machine, self.mod, self.base, self.size = machine, mod, base, size
        self.counts = (ctypes.c_uint64 * size)()
        self.sizes = (ctypes.c_uint32 * size)()
        self.header = (ctypes.c_uint64 * 4)(base, size, ctypes.addressof(self.counts),
                                            ctypes.addressof(self.sizes))
        uc = machine.uc
        uc.ctl_remove_cache(base, base + size)        # blocks translated without the hook
        native = _native_hook()
        if native is not None:
            self.handle = binding.uc_hook_h()
            err = binding.uclib.uc_hook_add(
                machine._uch, ctypes.byref(self.handle), UC_HOOK_BLOCK, ctypes.c_void_p(native),
                ctypes.c_void_p(ctypes.addressof(self.header)), ctypes.c_uint64(base),
                ctypes.c_uint64(base + size - 1))
            if err:
                from unicorn import UcError
                raise UcError(err)
            self.handle = self.handle.value
        else:
            def on_block(uc_, address, bsize, user_data):
                self.counts[address - base] += 1
                self.sizes[address - base] = bsize
            self._python_cb = on_block
            self.handle = uc.hook_add(UC_HOOK_BLOCK, on_block, begin=base, end=base + size - 1)

    def remove(self) -> None:
        """Delete the hook (the region is going away)."""
        if self.handle is None:
            return
        if hasattr(self, "_python_cb"):
            self.machine.uc.hook_del(self.handle)
        else:
            from unicorn.unicorn_py3 import unicorn as binding
            binding.uclib.uc_hook_del(self.machine._uch, ctypes.c_size_t(self.handle))
        self.handle = None

    def blocks(self):
        """(address, size, count) of every block that ran, in address order."""
        data = bytes(self.counts)
        seen = set()
        for hit in re.finditer(rb"[^\x00]", data):
            i = hit.start() // 8
            if i not in seen:
                seen.add(i)
                yield self.base + i, self.sizes[i], self.counts[i]


class LineCoverage:
    """Per kernel (``k.model(LineCoverage)``): hooks module text while armed and
    harvests block counts into a :class:`CoverageData`."""

    def __init__(self, k):
        self.k = k
        self.paths = None              # module file paths to cover (None: every module)
        self.regions: list[_Region] = []
        self.data = CoverageData()
        self.armed = False

    def arm(self, paths=None) -> "LineCoverage":
        """Count the blocks of the modules loaded from ``paths`` (all if None),
        those loaded now and those loaded later."""
        self.paths = None if paths is None else {str(p) for p in paths}
        if not self.armed:                   # a new measurement (a live session's next command)
            self.armed = True
            self.data = CoverageData()
            self.k.state_listeners.append(self._on_state)
        for mod in self.k.modules.values():
            if mod.state in (ModuleState.COMING, ModuleState.LIVE) and self._wanted(mod):
                self._hook(mod, init=mod.state == ModuleState.COMING)
        return self

    def _wanted(self, mod) -> bool:
        return mod.image is not None and (self.paths is None or mod.path in self.paths)

    def _hook(self, mod, init: bool = True) -> None:
        for base, size in mod.text_spans(init):
            if size and not any(r.mod is mod and r.base == base for r in self.regions):
                self.regions.append(_Region(self.k.machine, mod, base, size))

    def _on_state(self, mod) -> None:
        if not self.armed:
            return
        if mod.state == ModuleState.COMING and self._wanted(mod):
            self._hook(mod)
        elif mod.state == ModuleState.LIVE:          # init text is about to be freed
            self._harvest(lambda r: r.mod is mod and mod.within_init(r.base))
        elif mod.state == ModuleState.GOING:
            self._harvest(lambda r: r.mod is mod)

    def _harvest(self, which) -> None:
        for region in [r for r in self.regions if which(r)]:
            self.data.add_region(region)
            region.remove()
            self.regions.remove(region)

    def collect(self) -> "CoverageData":
        """Everything counted so far (modules still loaded included); stops counting."""
        self._harvest(lambda r: True)
        self.armed = False
        if self._on_state in self.k.state_listeners:
            self.k.state_listeners.remove(self._on_state)
        return self.data


class CoverageData:
    """Block counts per module image, mergeable, written as lcov."""

    def __init__(self):
        self.images: dict = {}       # sha256 of the image -> [image, {(sec, off): count}, sizes]

    def add_region(self, region: _Region) -> None:
        mod = region.mod
        key = _image_key(mod.image)
        entry = self.images.setdefault(key, [mod.image, {}, {}])
        spans = sorted((addr, size, idx) for idx, (addr, size) in mod.section_spans.items()
                       if size)
        starts = [s[0] for s in spans]
        for addr, size, count in region.blocks():
            pos = bisect.bisect_right(starts, addr) - 1
            if pos < 0 or addr >= spans[pos][0] + spans[pos][1]:
                continue
            where = (spans[pos][2], addr - spans[pos][0])
            entry[1][where] = entry[1].get(where, 0) + count
            entry[2][where] = size

    def merge(self, other: "CoverageData") -> "CoverageData":
        """Add another run's counts to these."""
        for key, (image, counts, sizes) in other.images.items():
            entry = self.images.setdefault(key, [image, {}, {}])
            for where, count in counts.items():
                entry[1][where] = entry[1].get(where, 0) + count
            entry[2].update(sizes)
        return self

    def files(self) -> dict:
        """{source path: FileCoverage} over every image, own sources only."""
        out: dict = {}
        for image, counts, sizes in self.images.values():
            info = image_lines(image)
            if info is None:
                continue
            rows, functions, own = info
            executed = _row_counts(rows, counts, sizes)
            for (sec, off, path, line), count in zip(rows, executed):
                if path in own:
                    fc = out.setdefault(path, FileCoverage(path))
                    fc.lines[line] = max(fc.lines.get(line, 0), count)
            for line_key, branches in _branch_counts(image, rows, counts, sizes).items():
                path, line = line_key
                if path in own:
                    fc = out.setdefault(path, FileCoverage(path))
                    fc.branches.setdefault(line, []).extend(branches)
            for name, path, line, sec, off in functions:
                if path in own:
                    fc = out.setdefault(path, FileCoverage(path))
                    fc.functions[name] = (line, fc.functions.get(name, (0, 0))[1] +
                                          _count_at(counts, sizes, sec, off))
        return out

    def lcov(self, test_name: str = "") -> str:
        """The tracefile: one record per source file."""
        out = []
        for path, fc in sorted(self.files().items()):
            out += [f"TN:{test_name}", f"SF:{path}"]
            for name, (line, _count) in sorted(fc.functions.items(), key=lambda f: f[1][0]):
                out.append(f"FN:{line},{name}")
            for name, (line, count) in sorted(fc.functions.items(), key=lambda f: f[1][0]):
                out.append(f"FNDA:{count},{name}")
            out += [f"FNF:{len(fc.functions)}",
                    f"FNH:{sum(1 for _l, c in fc.functions.values() if c)}"]
            brda = []
            for line, branches in sorted(fc.branches.items()):
                for block, (not_taken, taken, ran) in enumerate(branches):
                    for branch, count in enumerate((not_taken, taken)):
                        brda.append(f"BRDA:{line},{block},{branch},{count if ran else '-'}")
            out += brda
            if brda:
                out += [f"BRF:{len(brda)}",
                        f"BRH:{sum(1 for b in brda if not b.endswith((',0', ',-')))}"]
            for line, count in sorted(fc.lines.items()):
                out.append(f"DA:{line},{count}")
            out += [f"LF:{len(fc.lines)}", f"LH:{sum(1 for c in fc.lines.values() if c)}",
                    "end_of_record"]
        return "".join(line + "\n" for line in out)

    def summary(self) -> str:
        """``12 of 15 lines (80%), 3 of 4 functions in 1 file``."""
        files = self.files()
        lines = sum(len(f.lines) for f in files.values())
        hit = sum(1 for f in files.values() for c in f.lines.values() if c)
        fns = sum(len(f.functions) for f in files.values())
        fhit = sum(1 for f in files.values() for _l, c in f.functions.values() if c)
        pct = f" ({100 * hit / lines:.0f}%)" if lines else ""
        return (f"{hit} of {lines} lines{pct}, {fhit} of {fns} functions in {len(files)} "
                f"file{'s' if len(files) != 1 else ''}")

    def write_lcov(self, path, test_name: str = "") -> None:
        """Write the tracefile atomically (a temporary file renamed over ``path``)."""
        import tempfile
        path = os.path.abspath(path)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".kemu-cov.")
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(self.lcov(test_name))
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise


class FileCoverage:
    """One source file: line -> count, function -> (line, count)."""

    def __init__(self, path: str):
        self.path, self.lines, self.functions = path, {}, {}
        self.branches: dict = {}    # line -> [(not taken, taken, ran)] per conditional jump


def _count_at(counts, sizes, sec, off) -> int:
    return counts.get((sec, off), 0)


def _row_counts(rows, counts, sizes) -> list[int]:
    """How often the instruction at each row's address ran: the counts of the
    blocks containing it (blocks can overlap when code jumps into a block)."""
    keys = [(sec, off) for sec, off, _p, _l in rows]
    result = [0] * len(rows)
    for (sec, start), count in counts.items():
        end = start + sizes.get((sec, start), 1)
        i = bisect.bisect_left(keys, (sec, start))
        while i < len(keys) and keys[i][0] == sec and keys[i][1] < end:
            result[i] += count
            i += 1
    return result


def _branch_counts(image, rows, counts, sizes) -> dict:
    """{(path, line): [(not taken, taken, ran)]} for the conditional jumps whose
    edges the block counts determine: a jump executed c times whose
    fall-through instruction nothing else jumps to fell through as often as
    that instruction's block began, and was taken the rest of the time."""
    info = _jumps(image)
    out: dict = {}
    keys = [(sec, off) for sec, off, _p, _l in rows]
    for sec, (conditional, targets) in info.items():
        starts = sorted(off for (s, off) in counts if s == sec)
        for off, fall in conditional:
            if fall in targets:
                continue                      # entered from elsewhere too: edges unknown
            ran = _count_at_offset(counts, sizes, starts, sec, off)
            not_taken = counts.get((sec, fall), 0)
            pos = bisect.bisect_right(keys, (sec, off)) - 1
            if pos < 0 or keys[pos][0] != sec:
                continue
            where = (rows[pos][2], rows[pos][3])
            out.setdefault(where, []).append((not_taken, ran - not_taken, ran > 0))
    return out


def _count_at_offset(counts, sizes, starts, sec, off) -> int:
    """How often the instruction at sec+off ran (the blocks containing it)."""
    total = 0
    for start in starts[:bisect.bisect_right(starts, off)]:
        if start + sizes.get((sec, start), 1) > off:
            total += counts[(sec, start)]
    return total


_JUMPS: dict = {}


def _jumps(image) -> dict:
    """{section: ([(jcc offset, fall-through offset)], jump targets)} of the
    image's code, from capstone; jumps whose displacement is relocated (to
    another section or an export) are not targets in their section."""
    key = _image_key(image)
    if key in _JUMPS:
        return _JUMPS[key]
    result = {}
    try:
        import capstone
    except ImportError:
        _JUMPS[key] = result
        return result
    from kemu.module import elf as E
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    for sec in image.sections:
        if not (sec.sh_flags & E.SHF_EXECINSTR and sec.sh_flags & E.SHF_ALLOC) or \
                sec.sh_type == E.SHT_NOBITS or not sec.sh_size:
            continue
        relocated = set()
        for rel in image.sections:
            if rel.sh_type == E.SHT_RELA and rel.sh_info == sec.index:
                relocated.update(r_offset for r_offset, *_rest in image.iter_relas(rel.index))
        conditional, targets = [], set()
        for insn in md.disasm(image.section_data(sec.index), 0):
            name = insn.mnemonic
            if not name.startswith("j") or not insn.op_str.startswith("0x"):
                continue
            if any(o in relocated for o in range(insn.address + 1, insn.address + insn.size)):
                continue
            targets.add(int(insn.op_str, 16))
            if name != "jmp":
                conditional.append((insn.address, insn.address + insn.size))
        result[sec.index] = (conditional, targets)
    _JUMPS[key] = result
    return result


def _image_key(image) -> str:
    import hashlib
    return hashlib.sha256(image.data).hexdigest()


_LINES: dict = {}                # sha256 of an image -> its line rows, functions, own files


def image_lines(image):
    """(rows, functions, own files) of an image's DWARF, or None without it.

    rows: sorted (section, offset, path, line) of ``is_stmt`` rows;
    functions: (name, path, line, section, offset) of subprograms with code;
    own files: paths in the directories of the compilation units' sources.
    """
    key = _image_key(image)
    if key not in _LINES:
        try:
            _LINES[key] = _read_lines(image)
        except Exception:            # damaged or unusual DWARF: no coverage for it
            _LINES[key] = None
    return _LINES[key]


def _read_lines(image):
    from elftools.elf.elffile import ELFFile
    from kemu.machine.debuginfo import SECTION_SHIFT, _relocated_copy
    if not (image.find_any_sec(".debug_line") and image.find_any_sec(".debug_info")):
        return None
    dwarf = ELFFile(io.BytesIO(_relocated_copy(image))).get_dwarf_info(
        relocate_dwarf_sections=False)
    mask = (1 << SECTION_SHIFT) - 1
    rows, functions, own_dirs, all_files = set(), [], set(), set()
    for cu in dwarf.iter_CUs():
        top = cu.get_top_DIE()
        comp_dir = _text(top.attributes["DW_AT_comp_dir"].value) \
            if "DW_AT_comp_dir" in top.attributes else ""
        if "DW_AT_name" in top.attributes:
            own_dirs.add(os.path.dirname(os.path.normpath(
                os.path.join(comp_dir, _text(top.attributes["DW_AT_name"].value)))))
        prog = dwarf.line_program_for_CU(cu)
        if prog is None:
            continue
        files = _file_paths(prog, comp_dir)
        all_files.update(files.values())
        for entry in prog.get_entries():
            st = entry.state
            if st is None or st.end_sequence or not st.is_stmt or not st.line:
                continue
            sec = st.address >> SECTION_SHIFT
            if sec:
                rows.add((sec, st.address & mask, files.get(st.file, "?"), st.line))
        for die in cu.iter_DIEs():
            if die.tag != "DW_TAG_subprogram" or "DW_AT_low_pc" not in die.attributes:
                continue
            origin = die
            for ref in ("DW_AT_abstract_origin", "DW_AT_specification"):
                if ref in origin.attributes and "DW_AT_name" not in origin.attributes:
                    origin = origin.get_DIE_from_attribute(ref)
            if "DW_AT_name" not in origin.attributes or "DW_AT_decl_line" not in origin.attributes:
                continue
            low = die.attributes["DW_AT_low_pc"].value
            path = files.get(origin.attributes["DW_AT_decl_file"].value, "?") \
                if "DW_AT_decl_file" in origin.attributes else "?"
            functions.append((_text(origin.attributes["DW_AT_name"].value), path,
                              origin.attributes["DW_AT_decl_line"].value,
                              low >> SECTION_SHIFT, low & mask))
    own = {p for p in all_files if any(p.startswith(d + os.sep) for d in own_dirs)}
    return sorted(rows), functions, own


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _file_paths(prog, comp_dir: str) -> dict:
    """File index -> normalised absolute path (as the compiler saw it)."""
    header = prog.header
    version = header["version"]
    dirs = [_text(d) for d in header["include_directory"]]
    out = {}
    for i, entry in enumerate(header["file_entry"]):
        name = _text(entry.name)
        if not os.path.isabs(name):
            d = entry.dir_index
            if version >= 5:
                base = dirs[d] if 0 <= d < len(dirs) else ""
            else:
                base = dirs[d - 1] if 0 < d <= len(dirs) else ""
            name = os.path.join(comp_dir, base, name)
        out[i if version >= 5 else i + 1] = os.path.normpath(name)
    return out
