"""drivers/virtio/."""
