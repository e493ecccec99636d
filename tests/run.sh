#!/usr/bin/env bash
# Install what the tests need, build testmods/ against the installed Debian
# kernel headers (installing linux-headers-amd64 when none are there), and
# run the whole suite. This is the README's second command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install -q -e '.[test]'

if ! ls -d /usr/src/linux-headers-*-amd64 >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q linux-headers-amd64
fi

# One headers tree for everything the tests build and fetch: $KDIR, else the
# newest installed of the 6.1 line, whose goldens are tests/expected/ (kemu
# itself picks by each module's release, never by age).
if [ -z "${KDIR:-}" ]; then
    KDIR=$(ls -d /usr/src/linux-headers-6.1.*-amd64 2>/dev/null | sort -V | tail -n 1)
    [ -n "$KDIR" ] || KDIR=$(tests/install-kernel-line.sh 6.1)
fi
export KDIR

testmods/build.sh
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
    echo "== kernel line $line: $mods"
    KEMU_TESTMODS=$mods python3 -m pytest -q tests/test_golden.py tests/test_lines.py
done
