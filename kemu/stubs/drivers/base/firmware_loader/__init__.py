"""drivers/base/firmware_loader/."""
