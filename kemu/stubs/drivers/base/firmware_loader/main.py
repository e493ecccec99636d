"""drivers/base/firmware_loader/main.c: request_firmware() on a machine with no
firmware files.

kemu's machine has no /lib/firmware (and Debian's kernel has no user-mode
fallback loader), so every load fails as it does in the oracle VM: ``*fw``
is set to NULL and -ENOENT returned; an empty name is -EINVAL, silently.
Debian's kernel logs each failed attempt twice ("firmware: failed to load
NAME (-2)", a Debian patch, even for the no-warning variants), points once
per boot at wiki.debian.org/Firmware, then warns "Direct firmware load ..."
unless the caller asked for no warning. ``release_firmware(NULL)`` does
nothing.
"""
import errno

from kemu import export
from kemu.kernel.log import KERN_ERR, KERN_WARNING

from ...base.dev_printk import dev_emit
from kemu.abi.toolkit import cstr


class FirmwareLog:
    """Whether the once-per-boot pointer to Debian's firmware page was printed."""

    def __init__(self, k):
        self.hinted = False


def _request(k, fw, name, device, warn: bool) -> int:
    if not fw:
        return -errno.EINVAL
    k.machine.write_u64(fw, 0)
    text = cstr(k, name, 256) if name else ""
    if not text:
        return -errno.EINVAL
    ret = -errno.ENOENT
    failed = f"firmware: failed to load {text} ({ret})\n".encode("utf-8", "surrogateescape")
    dev_emit(k, KERN_ERR, device, failed)
    log = k.model(FirmwareLog)
    if not log.hinted:
        log.hinted = True
        k.log.emit(KERN_ERR, "firmware_class: See https://wiki.debian.org/Firmware for information "
                      "about missing firmware")
    dev_emit(k, KERN_ERR, device, failed)
    if warn:
        dev_emit(k, KERN_WARNING, device, f"Direct firmware load for {text} failed with error "
                               f"{ret}\n".encode("utf-8", "surrogateescape"))
    return ret


@export("int request_firmware(const struct firmware **fw, const char *name, "
        "struct device *device)")
def request_firmware(k, fw, name, device):
    return _request(k, fw, name, device, warn=True)


@export("int request_firmware_direct(const struct firmware **fw, const char *name, "
        "struct device *device)")
def request_firmware_direct(k, fw, name, device):
    return _request(k, fw, name, device, warn=False)


@export("int firmware_request_nowarn(const struct firmware **fw, const char *name, "
        "struct device *device)")
def firmware_request_nowarn(k, fw, name, device):
    return _request(k, fw, name, device, warn=False)


@export("void release_firmware(const struct firmware *fw)")
def release_firmware(k, fw):
    """Only a firmware kemu handed out could be freed, and it hands out none."""
    if fw:
        k.note("release_firmware() of a firmware kemu never loaded")
