"""Third-party models: kemu run --stubs DIR adds or overrides exports, with a warning."""
from __future__ import annotations

import subprocess
import sys
import textwrap


def test_stubs_dir_overrides_and_adds(tmp_path, testmods):
    stubs = tmp_path / "mystubs"
    stubs.mkdir()
    (stubs / "override.py").write_text(textwrap.dedent('''
        from kemu import export

        @export("int snprintf(char *buf, size_t size, const char *fmt, ...)")
        def snprintf(k, buf, size, fmt, va):
            k.machine.write(buf, b"mine\\0")
            return 4

        @export("int kemu_no_such_symbol(void)")
        def kemu_no_such_symbol(k):
            return 0
    '''))
    proc = subprocess.run([sys.executable, "-m", "kemu", "run", str(testmods / "hello.ko"),
                           "--stubs", str(stubs), "--session", str(tmp_path / "s")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert 'hello: snprintf gave "mine" (4 chars)' in proc.stdout
    assert "kemu: warning: export snprintf from" in proc.stderr and "is overridden by" in proc.stderr
    added = subprocess.run([sys.executable, "-m", "kemu", "run", str(testmods / "missingsym.ko"),
                            "--stubs", str(stubs), "--session", str(tmp_path / "s2")],
                           capture_output=True, text=True)
    assert added.returncode == 0, added.stderr          # the symbol now exists


def test_bad_stubs_dir_is_a_clean_error(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "kemu", "lsmod", "--stubs",
                           str(tmp_path / "nope"), "--session", str(tmp_path / "s")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "not a directory" in proc.stderr
    assert "Traceback" not in proc.stderr
