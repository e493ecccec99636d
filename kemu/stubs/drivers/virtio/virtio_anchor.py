"""drivers/virtio/virtio_anchor.c: the platform's memory-access check for virtio
devices; a bare machine installs none (NULL)."""
from kemu import data


@data("void *virtio_check_mem_acc_cb")   # bool (*)(struct virtio_device *)
def virtio_check_mem_acc_cb(k, addr):
    pass
