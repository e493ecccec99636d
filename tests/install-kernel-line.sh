#!/usr/bin/env bash
# Install the kernel headers of one Debian kernel line beside bookworm's 6.1:
#   tests/install-kernel-line.sh 5.10     newest linux-headers-5.10.0-N-amd64 (bullseye)
#   tests/install-kernel-line.sh 6.12     newest linux-headers-6.12.*+deb12-amd64 (bookworm-backports)
#   tests/install-kernel-line.sh 6.1      newest linux-headers-6.1.0-N-amd64 (bookworm)
# The extra suites are added with the same mirror URI as the system's bookworm
# entry. Prints the headers directory (a KDIR) on stdout. Idempotent.
set -euo pipefail
line=${1:?usage: install-kernel-line.sh 5.10|6.1|6.12}
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive

case $line in
    5.10) suite=bullseye ;;
    6.12) suite=bookworm-backports ;;
    6.1) suite=bookworm ;;
    *) echo "install-kernel-line: unknown line '$line' (5.10, 6.1 or 6.12)" >&2; exit 2 ;;
esac

# the URI the system uses for bookworm (deb822 .sources first, then sources.list)
uri=""
for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    uri=$(awk 'BEGIN{RS=""} /Suites:[^\n]*bookworm([ \n]|$)/ && !/bookworm-security/ {
                 if (match($0, /URIs:[ \t]*[^ \t\n]+/)) { s=substr($0,RSTART,RLENGTH); sub(/URIs:[ \t]*/,"",s); print s; exit } }' "$f")
    [ -n "$uri" ] && break
done
if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1=="deb" && $3=="bookworm" {print $2; exit}' /etc/apt/sources.list)
fi
[ -n "$uri" ] || { echo "install-kernel-line: no bookworm entry in /etc/apt sources" >&2; exit 1; }

list=/etc/apt/sources.list.d/kemu-$suite.list
if [ "$suite" != bookworm ] && [ ! -f "$list" ]; then
    echo "deb $uri $suite main" | $sudo tee "$list" >/dev/null
    $sudo apt-get update -q >&2
fi

newest() {  # newest package name matching $1 (a regex) that apt knows
    apt-cache search --names-only "$1" | awk '{print $1}' | sort -V | tail -n 1
}
case $line in
    5.10) pkg=$(newest '^linux-headers-5\.10\.0-[0-9]+-amd64$') ;;
    6.12) pkg=$(newest '^linux-headers-6\.12\.[0-9.]+\+deb12-amd64$') ;;
    6.1) pkg=$(newest '^linux-headers-6\.1\.0-[0-9]+-amd64$') ;;
esac
if [ -z "$pkg" ]; then
    $sudo apt-get update -q >&2
    case $line in
        5.10) pkg=$(newest '^linux-headers-5\.10\.0-[0-9]+-amd64$') ;;
        6.12) pkg=$(newest '^linux-headers-6\.12\.[0-9.]+\+deb12-amd64$') ;;
        6.1) pkg=$(newest '^linux-headers-6\.1\.0-[0-9]+-amd64$') ;;
    esac
fi
[ -n "$pkg" ] || { echo "install-kernel-line: no headers package of line $line in $suite" >&2; exit 1; }
kdir=/usr/src/${pkg}
if [ ! -f "$kdir/Makefile" ]; then
    $sudo apt-get install -y -q "$pkg" >&2
fi
echo "$kdir"
