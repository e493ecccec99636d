/* SPDX-License-Identifier: GPL-2.0 */
/* exporter.h - the interface exporter.ko provides to user.ko */
#ifndef KEMU_EXPORTER_H
#define KEMU_EXPORTER_H

extern int exporter_counter;
extern const char exporter_name[];
int exporter_add(int a, int b);
int exporter_gpl_value(void);

#endif
