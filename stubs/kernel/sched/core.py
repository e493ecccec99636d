"""kernel/sched: one CPU, never preempted; the static calls that ask for a reschedule."""
from kemu import export, static_call

static_call("might_resched", "__cond_resched")
static_call("cond_resched", "__cond_resched")
static_call("preempt_schedule", "preempt_schedule")
static_call("preempt_schedule_notrace", "preempt_schedule_notrace")


@export("int __cond_resched(void)")
def __cond_resched(k):
    return 0


@export("void preempt_schedule(void)")
def preempt_schedule(k):
    pass


@export("void preempt_schedule_notrace(void)")
def preempt_schedule_notrace(k):
    pass


@export("void __might_sleep(const char *file, int line)")
def __might_sleep(k, file, line):
    pass


@export("void __might_fault(const char *file, int line)")
def __might_fault(k, file, line):
    pass
