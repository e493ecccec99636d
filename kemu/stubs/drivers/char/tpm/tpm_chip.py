"""drivers/char/tpm/tpm-chip.c, tpm-interface.c, tpm1-cmd.c, tpm_tis_core.c: for linking.

A TPM chip is allocated and registered by a driver's probe, on a TPM that
was found: kemu's machine has none, so no probe runs and these are
link-only (a ``not-modelled`` finding, and -ENODEV / ERR_PTR(-ENODEV)).
"""
from __future__ import annotations

import errno

from kemu.abi.exports import link_only
from kemu.abi.toolkit import err_ptr

_WHY = "kemu's machine has no TPM"
_ENODEV = -errno.ENODEV

for _proto, _res in (
        ("struct tpm_chip *tpm_chip_alloc(struct device *pdev, "
         "const struct tpm_class_ops *ops)", err_ptr(_ENODEV)),
        ("struct tpm_chip *tpmm_chip_alloc(struct device *pdev, "
         "const struct tpm_class_ops *ops)", err_ptr(_ENODEV)),
        ("int tpm_chip_register(struct tpm_chip *chip)", _ENODEV),
        ("void tpm_chip_unregister(struct tpm_chip *chip)", None),
        ("int tpm_pm_suspend(struct device *dev)", _ENODEV),
        ("int tpm_pm_resume(struct device *dev)", _ENODEV),
        ("unsigned long tpm_calc_ordinal_duration(struct tpm_chip *chip, u32 ordinal)", 0),
        ("int tpm1_do_selftest(struct tpm_chip *chip)", _ENODEV),
        ("ssize_t tpm_transmit_cmd(struct tpm_chip *chip, struct tpm_buf *buf, "
         "size_t min_rsp_body_length, const char *desc)", _ENODEV),
        ("int tpm_get_timeouts(struct tpm_chip *chip)", _ENODEV),
        ("int tpm_tis_core_init(struct device *dev, struct tpm_tis_data *priv, int irq, "
         "const struct tpm_tis_phy_ops *phy_ops, void *acpi_dev_handle)", _ENODEV),
        ("void tpm_tis_remove(struct tpm_chip *chip)", None),
        ("int tpm_tis_resume(struct device *dev)", _ENODEV),
):
    link_only(_proto, _res, _WHY)
