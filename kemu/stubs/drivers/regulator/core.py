"""drivers/regulator/core.c: voltage regulator consumers, for linking.

Consumers get their regulators in probe, on devices kemu's machine does not
have: link-only (a ``not-modelled`` finding, -ENODEV / ERR_PTR(-ENODEV)).
"""
from __future__ import annotations

import errno

from kemu.abi.exports import link_only
from kemu.abi.toolkit import err_ptr

_WHY = "regulators are taken by probes on devices kemu's machine does not have"
_E = -errno.ENODEV
for _p, _r in (
        ("int regulator_enable(struct regulator *regulator)", _E),
        ("int regulator_disable(struct regulator *regulator)", _E),
        ("int regulator_is_enabled(struct regulator *regulator)", _E),
        ("int regulator_get_voltage(struct regulator *regulator)", _E),
        ("int regulator_bulk_enable(int num_consumers, struct regulator_bulk_data *consumers)",
         _E),
        ("int regulator_bulk_disable(int num_consumers, struct regulator_bulk_data *consumers)",
         _E),
        ("int regulator_bulk_get(struct device *dev, int num_consumers, "
         "struct regulator_bulk_data *consumers)", _E),
        ("void regulator_bulk_free(int num_consumers, struct regulator_bulk_data *consumers)",
         None),
        ("void regulator_put(struct regulator *regulator)", None),
        ("struct regulator *regulator_get_optional(struct device *dev, const char *id)",
         err_ptr(_E)),
        ("struct regulator *devm_regulator_get(struct device *dev, const char *id)",
         err_ptr(_E)),
        ("struct regulator *devm_regulator_get_optional(struct device *dev, const char *id)",
         err_ptr(_E)),
        ("int devm_regulator_bulk_get(struct device *dev, int num_consumers, "
         "struct regulator_bulk_data *consumers)", _E),
):
    link_only(_p, _r, _WHY)

link_only("int devm_regulator_get_enable_read_voltage(struct device *dev, const char *id)", _E,
          _WHY)
