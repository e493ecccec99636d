"""kernel/time: jiffies, timers, hrtimers, timekeeping and delays on the virtual clock."""
