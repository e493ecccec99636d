"""drivers/leds/trigger/ledtrig-mtd.c: the "mtd" and "nand-disk" activity triggers.

``ledtrig_mtd_activity()`` blinks whatever LED is bound to the trigger; kemu's
machine has no LED bound to it, so there is nothing to blink.
"""
from kemu import export


@export("void ledtrig_mtd_activity(void)")
def ledtrig_mtd_activity(k):
    pass
