"""init/version.c: which Linux release this kernel is (utsname()->release).

Without a target given, the first module loaded decides: its vermagic names the
release it was built for, described by :func:`~kemu.target.find_target`
(shipped, cached, or generated from that release's headers). Left out:
everything else in utsname (kemu is always x86_64, hostname "kemu").
"""
from __future__ import annotations

from kemu.module import elf as E
from kemu.target import TargetError, find_target, load_target, release_of_vermagic


class Version:
    """The kernel's target description, and whether it is fixed yet."""

    def __init__(self, k, target=None):
        self.k = k
        self.target = target
        self.fixed = target is not None          # False: the first module decides

    def current(self):
        """The target (until a module fixes it, the shipped Debian 6.1 one)."""
        if self.target is None:
            self.target = load_target(None)
        return self.target

    def fix(self, image, path: str, force: bool = False) -> None:
        """Before a module loads: the first one fixes the kernel's release (its
        vermagic's); a later one built for another release fails as Linux fails it,
        with a note naming both releases."""
        k = self.k
        release = release_of_vermagic(E.image_vermagic(image))
        if self.fixed:
            if release and release != self.current().release:
                k.note(f"{path} was built for Linux {release}, this kernel is "
                       f"{self.current().release}: 'kemu reset' (or a new Kernel) "
                       f"starts a {release} one")
            return
        if release is None:
            if not force:
                raise TargetError(f"{path} has no vermagic, so kemu cannot tell which kernel "
                                  "it was built for: pass --target RELEASE|FILE")
        else:
            try:
                self.target = find_target(release, wanted_by=path)
            except TargetError:
                if not force:
                    raise
                k.note(f"{path} was built for Linux {release}, which kemu cannot "
                       f"describe: forced into {self.current().release}")
        self.fixed = True
        k.log.text_max = k.target.line.printk_text_max
