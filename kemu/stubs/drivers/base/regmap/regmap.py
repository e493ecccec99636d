"""drivers/base/regmap/: register maps, for linking.

A regmap is created by a driver's probe over a bus device (I2C client, SPI
device, MMIO range) that kemu's machine never has, so every regmap call is
link-only: a ``not-modelled`` finding, and -ENODEV / ERR_PTR(-ENODEV).
"""
from __future__ import annotations

import errno

from kemu.abi.exports import link_only
from kemu.abi.toolkit import err_ptr

_WHY = "regmaps are made by probes on devices kemu's machine does not have"
_E = -errno.ENODEV
for _p, _r in (
        ("int regmap_read(struct regmap *map, unsigned int reg, unsigned int *val)", _E),
        ("int regmap_write(struct regmap *map, unsigned int reg, unsigned int val)", _E),
        ("int regmap_update_bits_base(struct regmap *map, unsigned int reg, unsigned int mask, "
         "unsigned int val, bool *change, bool async, bool force)", _E),
        ("int regmap_bulk_read(struct regmap *map, unsigned int reg, void *val, "
         "size_t val_count)", _E),
        ("int regmap_bulk_write(struct regmap *map, unsigned int reg, const void *val, "
         "size_t val_count)", _E),
        ("int regmap_raw_read(struct regmap *map, unsigned int reg, void *val, size_t val_len)",
         _E),
        ("struct device *regmap_get_device(struct regmap *map)", 0),
        ("int regmap_irq_get_virq(struct regmap_irq_chip_data *data, int irq)", -errno.EINVAL),
        ("struct regmap *__devm_regmap_init_i2c(struct i2c_client *i2c, "
         "const struct regmap_config *config, struct lock_class_key *lock_key, "
         "const char *lock_name)", err_ptr(_E)),
        ("struct regmap *__devm_regmap_init(struct device *dev, const struct regmap_bus *bus, "
         "void *bus_context, const struct regmap_config *config, "
         "struct lock_class_key *lock_key, const char *lock_name)", err_ptr(_E)),
        ("struct nvmem_device *devm_nvmem_register(struct device *dev, "
         "const struct nvmem_config *cfg)", err_ptr(_E)),
        ("struct nvmem_device *nvmem_register(const struct nvmem_config *cfg)", err_ptr(_E)),
        ("void nvmem_unregister(struct nvmem_device *nvmem)", None),
):
    link_only(_p, _r, _WHY)

for _p, _r in (
        ("void regcache_cache_only(struct regmap *map, bool enable)", None),
        ("void regcache_mark_dirty(struct regmap *map)", None),
        ("int regcache_sync(struct regmap *map)", _E),
        ("int regmap_test_bits(struct regmap *map, unsigned int reg, unsigned int bits)", _E),
):
    link_only(_p, _r, _WHY)
