#!/usr/bin/env bash
# Install what the tests need, build testmods/ against the installed Debian
# kernel headers (installing linux-headers-amd64 when none are there, and gdb), and
# run the whole suite. This is the README's second command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install -q -e '.[test]'

missing=""
ls -d /usr/src/linux-headers-6.1.*-amd64 >/dev/null 2>&1 || missing="linux-headers-amd64"
command -v gdb >/dev/null 2>&1 || missing="$missing gdb"      # tests/test_gdbstub.py
if [ -n "$missing" ]; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q $missing
fi

# One headers tree for everything the tests build and fetch: $KDIR, else the
# one Debian's linux-headers-amd64 brings, else the newest 6.1 installed (kemu
# itself picks by each module's release, never by age).
if [ -z "${KDIR:-}" ]; then
    meta=$(dpkg-query -W -f='${Depends}' linux-headers-amd64 2>/dev/null | sed -n 's/^\(linux-headers-[^ ,]*\).*/\1/p' || true)
    if [ -n "$meta" ] && [ -d "/usr/src/$meta" ]; then
        KDIR=/usr/src/$meta
    else
        KDIR=$(ls -d /usr/src/linux-headers-6.1.*-amd64 | sort -V | tail -n 1)
    fi
fi
export KDIR
echo "tests/run.sh: building and testing against $KDIR"

testmods/build.sh
# describe the kernel of $KDIR now, so no test's output carries the one-time line
python3 -m kemu targets --generate "$KDIR" >/dev/null
# real modules from Debian's kernel package, for the tests that run them
KEMU_DEBIAN_MODULES=$(tests/fetch-debian-modules.sh)
export KEMU_DEBIAN_MODULES
python3 -m pytest -q "$@"

# The other kernel lines (5.10, 6.12): their headers, testmods/ built against
# them, and the core tests against that line's goldens (tests/expected/lines/).
# KEMU_LINES="" skips them.
for line in ${KEMU_LINES-5.10 6.12}; do
    kdir=$(tests/install-kernel-line.sh "$line")
    mods=$(testmods/build-line.sh "$kdir")
    python3 -m kemu targets --generate "$kdir" >/dev/null
    echo "== kernel line $line: $mods"
    KEMU_TESTMODS=$mods python3 -m pytest -q tests/test_golden.py tests/test_lines.py \
        tests/test_loader_memory.py tests/test_kmodfile.py
done
