#!/usr/bin/env python3
"""Split the output of real-kernel-oracle.sh running oracle-job*.sh into golden files.

usage: split-oracle-log.py RAW_LOG OUTDIR [--keep-first-load]

For every "@@@BEGIN TAG ... @@@END TAG" block it writes
  OUTDIR/TAG.dmesg   the kernel log lines of that step, "<level>text" per line
                     (the "[  time] " prefix of `dmesg -r` removed, text kept
                     byte for byte; the ORACLE-SYNC helper record dropped)
  OUTDIR/TAG.status  "exit=N", then the command's stderr lines verbatim
  OUTDIR/TAG.args    for insmod with parameters: the parameter words, one per line
and for every "@@@INFOBEGIN TAG" block OUTDIR/TAG with the info lines.

Failed insmods: busybox insmod calls init_module() again after finit_module()
fails, so the real log holds the whole failure twice.  The two halves must be
identical (checked; the script aborts otherwise) and only one copy is kept.

The one-time "loading out-of-tree module taints kernel." / "module verification
failed: ..." lines of the first module loaded after boot are moved out of the
step's file into OUTDIR/first-load-taint.dmesg, so every TAG.dmesg describes a
load into an already O+E-tainted kernel (the normal state after the first load).

Files are read and written as latin-1 so every byte is preserved (formats.dmesg
contains a raw 0xe9 byte printed through %pE).
"""
import os
import re
import sys

TS = re.compile(r'^(<\d+>)\[\s*\d+\.\d+\] ?')
FIRST_LOAD = [
    re.compile(r'^<4>[^ ]+: loading out-of-tree module taints kernel\.$'),
    re.compile(r'^<5>[^ ]+: module verification failed: signature and/or '
               r'required key missing - tainting kernel$'),
]


def strip_ts(line):
    m = TS.match(line)
    if not m:
        raise SystemExit('unexpected kernel log line: %r' % line)
    return m.group(1) + line[m.end():]


def main():
    args = [a for a in sys.argv[1:] if not a.startswith('--')]
    keep_first = '--keep-first-load' in sys.argv
    if len(args) != 2:
        raise SystemExit(__doc__)
    raw, outdir = args
    with open(raw, encoding='latin-1') as f:
        lines = f.read().split('\n')
    os.makedirs(outdir, exist_ok=True)

    def write(name, content_lines):
        with open(os.path.join(outdir, name), 'w', encoding='latin-1', newline='') as f:
            f.write(''.join(l + '\n' for l in content_lines))

    i = 0
    first_load = []
    written = []
    while i < len(lines):
        line = lines[i]
        if line.startswith('@@@BEGIN '):
            tag = line[len('@@@BEGIN '):]
            argv, rc, err, klog = [], None, [], []
            i += 1
            while lines[i] != '@@@END ' + tag:
                l = lines[i]
                if l.startswith('@@@ARG '):
                    argv.append(l[len('@@@ARG '):])
                elif l.startswith('@@@RC '):
                    rc = int(l[len('@@@RC '):])
                elif l.startswith('@@@STDERR '):
                    err.append(l[len('@@@STDERR '):])
                elif l.startswith('@@@K '):
                    k = strip_ts(l[len('@@@K '):])
                    if not k.endswith('ORACLE-SYNC'):
                        klog.append(k)
                elif l.startswith('@@@STDOUT ') or l.startswith('@@@TAINTED '):
                    pass
                else:
                    raise SystemExit('%s: unexpected line %r' % (tag, l))
                i += 1
            if argv[0] == 'insmod' and rc != 0 and klog:
                n = len(klog)
                if n % 2 or klog[:n // 2] != klog[n // 2:]:
                    raise SystemExit('%s: failed insmod log is not two identical copies:\n%s'
                                     % (tag, '\n'.join(klog)))
                klog = klog[:n // 2]
            if not keep_first:
                kept = []
                for k in klog:
                    if any(p.match(k) for p in FIRST_LOAD):
                        first_load.append(k)
                    else:
                        kept.append(k)
                klog = kept
            write(tag + '.dmesg', klog)
            write(tag + '.status', ['exit=%d' % rc] + err)
            written += [tag + '.dmesg', tag + '.status']
            if argv[0] == 'insmod' and len(argv) > 2:
                write(tag + '.args', argv[2:])
                written.append(tag + '.args')
        elif line.startswith('@@@INFOBEGIN '):
            tag = line[len('@@@INFOBEGIN '):]
            body = []
            i += 1
            while lines[i] != '@@@INFOEND ' + tag:
                body.append(lines[i][len('@@@INFO '):])
                i += 1
            write(tag, body)
            written.append(tag)
        i += 1
    if first_load:
        write('first-load-taint.dmesg', first_load)
        written.append('first-load-taint.dmesg')
    print('%d files written to %s' % (len(written), outdir), file=sys.stderr)


if __name__ == '__main__':
    main()
