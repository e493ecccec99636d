"""Per-CPU variables of arch/x86 and the task running module code."""
from kemu import data, percpu
from kemu.abi.exports import members

# 6.2+ (arch/x86/include/asm/current.h): current_task and its neighbours
members("struct pcpu_hot", "current_task", "preempt_count", "cpu_number", "top_of_stack",
        "call_depth", "hardirq_stack_ptr", "softirq_pending", "hardirq_stack_inuse")
members("struct task_struct", "stack", "pid", "tgid", "comm")

NR_CPUS_EMULATED = 1


class CurrentTask:
    """The task that runs module code: an ``insmod``-like process, PID 1."""

    def __init__(self, k):
        t = k.target
        self.addr = k.machine.alloc_kdata(t.sizeof("task_struct"), 64)
        m = k.machine
        m.write(self.addr + t.offset("task_struct.comm"), b"insmod".ljust(t.const("TASK_COMM_LEN"), b"\0"))
        m.write_u32(self.addr + t.offset("task_struct.pid"), 1)
        m.write_u32(self.addr + t.offset("task_struct.tgid"), 1)
        m.write_u64(self.addr + t.offset("task_struct.stack"), m.stack_addr)


@percpu("struct task_struct *current_task", until="6.2")
@percpu("struct task_struct *current_task", since="6.2", within=("pcpu_hot", "pcpu_hot.current_task"))
def current_task(k, offset):
    k.machine.write_u64(k.machine.percpu_addr + offset, k.model(CurrentTask).addr)


@percpu("int __preempt_count", until="6.2")
@percpu("int __preempt_count", since="6.2", within=("pcpu_hot", "pcpu_hot.preempt_count"))
def __preempt_count(k, offset):
    k.machine.write_u32(k.machine.percpu_addr + offset, 0)


@percpu("int cpu_number", until="6.2")
@percpu("int cpu_number", since="6.2", within=("pcpu_hot", "pcpu_hot.cpu_number"))
def cpu_number(k, offset):
    k.machine.write_u32(k.machine.percpu_addr + offset, 0)


@percpu("struct pcpu_hot pcpu_hot", size=64, align=64, since="6.2")
def pcpu_hot(k, offset):
    """6.2+: current_task, preempt_count, cpu_number, top_of_stack in one line."""
    m, t = k.machine, k.target
    base = m.percpu_addr + offset
    m.write_u64(base + t.offset("pcpu_hot.current_task"), k.model(CurrentTask).addr)
    m.write_u64(base + t.offset("pcpu_hot.top_of_stack"), m.stack_addr + 16384)


@percpu("struct pcpu_hot const_pcpu_hot", since="6.2", within=("pcpu_hot", None))
def const_pcpu_hot(k, offset):
    """The const alias the linker gives pcpu_hot (6.7+)."""


@percpu("unsigned long this_cpu_off")
def this_cpu_off(k, offset):
    k.machine.write_u64(k.machine.percpu_addr + offset, k.machine.percpu_addr)


@percpu("unsigned long cpu_current_top_of_stack", until="6.2")
@percpu("unsigned long cpu_current_top_of_stack", since="6.2",
        within=("pcpu_hot", "pcpu_hot.top_of_stack"))
def cpu_current_top_of_stack(k, offset):
    k.machine.write_u64(k.machine.percpu_addr + offset, k.machine.stack_addr + 16384)


@data("unsigned long __per_cpu_offset[8192]")
def __per_cpu_offset(k, addr):
    k.machine.write_u64(addr, k.machine.percpu_addr)


@data("unsigned int nr_cpu_ids")
def nr_cpu_ids(k, addr):
    k.machine.write_u32(addr, NR_CPUS_EMULATED)


def _cpumask(k, addr):
    k.machine.write_u64(addr, (1 << NR_CPUS_EMULATED) - 1)


for _name in ("__cpu_possible_mask", "__cpu_online_mask", "__cpu_present_mask",
              "__cpu_active_mask"):
    data(f"unsigned long {_name}[128]")(_cpumask)
