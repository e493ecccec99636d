"""lib/uuid.c: random (version 4) UUIDs and GUIDs, parsing and the null ids.

``uuid_t``/``guid_t`` (16 bytes) are spelled ``u8`` arrays in the prototypes.
"""
import errno

from kemu import data, export

from .random import Crng

UUID_SIZE = 16
# byte order of the string's hex pairs in the binary (guid_index[] / uuid_index[])
GUID_INDEX = (3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15)
UUID_INDEX = tuple(range(16))
# where each byte's two hex digits start in "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (si[])
_SI = (0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34)
_HEX = set(b"0123456789abcdefABCDEF")


def _random(k, version_byte: int) -> bytearray:
    """__uuid_gen_common() and the version nibble at ``version_byte``."""
    b = bytearray(k.model(Crng).bytes(UUID_SIZE))
    b[8] = (b[8] & 0x3F) | 0x80                       # variant: DCE 1.1
    b[version_byte] = (b[version_byte] & 0x0F) | 0x40  # version 4
    return b


@export("void generate_random_uuid(unsigned char uuid[16])")
def generate_random_uuid(k, uuid):
    k.machine.write(uuid, bytes(_random(k, 6)))


@export("void generate_random_guid(unsigned char guid[16])")
def generate_random_guid(k, guid):
    k.machine.write(guid, bytes(_random(k, 7)))


@export("void uuid_gen(u8 *bu)")
def uuid_gen(k, bu):
    k.machine.write(bu, bytes(_random(k, 6)))


@export("void guid_gen(u8 *lu)")
def guid_gen(k, lu):
    k.machine.write(lu, bytes(_random(k, 7)))


def valid(text: bytes) -> bool:
    """uuid_is_valid(): 36 characters, dashes at 8, 13, 18 and 23, hex digits elsewhere."""
    if len(text) < 36:
        return False
    return all(c == 0x2D if i in (8, 13, 18, 23) else c in _HEX
               for i, c in enumerate(text[:36]))


@export("bool uuid_is_valid(const char *uuid)")
def uuid_is_valid(k, uuid):
    return valid(k.machine.read_cstr(uuid, 37))


def _parse(k, text_addr: int, out: int, index) -> int:
    text = k.machine.read_cstr(text_addr, 37)
    if not valid(text):
        return -errno.EINVAL
    b = bytearray(UUID_SIZE)
    for i in range(UUID_SIZE):
        b[index[i]] = int(text[_SI[i]:_SI[i] + 2], 16)
    k.machine.write(out, bytes(b))
    return 0


@export("int guid_parse(const char *uuid, u8 *u)")
def guid_parse(k, uuid, u):
    return _parse(k, uuid, u, GUID_INDEX)


@export("int uuid_parse(const char *uuid, u8 *u)")
def uuid_parse(k, uuid, u):
    return _parse(k, uuid, u, UUID_INDEX)


def _zeroed(k, addr):
    pass                                               # all-zero ids


data("const u8 guid_null[16]")(_zeroed)
data("const u8 uuid_null[16]")(_zeroed)


@data("const u8 guid_index[16]")
def guid_index(k, addr):
    k.machine.write(addr, bytes(GUID_INDEX))


@data("const u8 uuid_index[16]")
def uuid_index(k, addr):
    k.machine.write(addr, bytes(UUID_INDEX))
