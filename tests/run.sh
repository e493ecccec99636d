#!/usr/bin/env bash
# Install what the tests need, build testmods/ against the installed Debian
# kernel headers (installing linux-headers-amd64 when none are there, and gdb), and
# run the whole suite. This is the README's second command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install -q -e '.[test]'

missing=""
ls -d /usr/src/linux-headers-*-amd64 >/dev/null 2>&1 || missing="linux-headers-amd64"
command -v gdb >/dev/null 2>&1 || missing="$missing gdb"      # tests/test_gdbstub.py
if [ -n "$missing" ]; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q $missing
fi

testmods/build.sh
# real modules from Debian's kernel package, for the tests that run them
KEMU_DEBIAN_MODULES=$(tests/fetch-debian-modules.sh)
export KEMU_DEBIAN_MODULES
python3 -m pytest -q "$@"
