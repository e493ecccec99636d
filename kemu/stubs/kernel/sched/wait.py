"""kernel/sched/wait.c, swait.c, wait_bit.c: wait queues kept in emulated memory.

Wait queue heads and entries are the kernel's structures (the inline
wait_event*() macros build entries on the module's stack and loop over
prepare_to_wait_event(), schedule() and finish_wait()); __wake_up() walks the
list and calls each entry's wake function - kemu's own ones directly, a
module's through an emulated call.
"""
from kemu import export
from kemu.abi.exports import members

from .core import MASK64, caller, sched

members("struct wait_queue_head", "lock", "head")
# locking, scheduling, time, deferred work (stubs/kernel/{locking,sched,time},
# stubs/kernel/{rcu,workqueue,softirq,kthread}.py)
members("struct wait_queue_entry", "flags", "private", "func", "entry")
members("struct wait_bit_key", "flags", "bit_nr", "timeout")
members("struct wait_bit_queue_entry", "key", "wq_entry")
members("struct swait_queue_head", "lock", "task_list")
members("struct swait_queue", "task", "task_list")
members("struct rcuwait", "task")

LIST_POISON1 = 0xDEAD000000000100        # 0x100 + POISON_POINTER_DELTA (x86_64)
LIST_POISON2 = 0xDEAD000000000122
GOLDEN_RATIO_64 = 0x61C8864680B583EB     # include/linux/hash.h
WAIT_TABLE_BITS = 8                      # kernel/sched/wait_bit.c


class WaitQueues:
    """Offsets, constants and kemu's wake functions."""

    def __init__(self, k):
        self.k = k
        self.s = sched(k)
        t = k.target
        c = t.const
        self.next = t.offset("list_head.next")
        self.prev = t.offset("list_head.prev")
        self.h_lock = t.offset("wait_queue_head.lock")
        self.h_head = t.offset("wait_queue_head.head")
        self.e_flags = t.offset("wait_queue_entry.flags")
        self.e_private = t.offset("wait_queue_entry.private")
        self.e_func = t.offset("wait_queue_entry.func")
        self.e_entry = t.offset("wait_queue_entry.entry")
        self.sq_lock = t.offset("swait_queue_head.lock")
        self.sq_list = t.offset("swait_queue_head.task_list")
        self.sw_task = t.offset("swait_queue.task")
        self.sw_list = t.offset("swait_queue.task_list")
        self.kb_flags = t.offset("wait_bit_key.flags")
        self.kb_bit = t.offset("wait_bit_key.bit_nr")
        self.wbq_key = t.offset("wait_bit_queue_entry.key")
        self.wbq_entry = t.offset("wait_bit_queue_entry.wq_entry")
        self.EXCLUSIVE = c("WQ_FLAG_EXCLUSIVE")
        self.WOKEN = c("WQ_FLAG_WOKEN")
        self.PRIORITY = t.consts.get("WQ_FLAG_PRIORITY", 0)     # 5.11; 5.10 has none
        self._known = None
        self._bit_table = 0
        self._scratch: list = []

    # -------------------------------------------------------------- lists
    def list_init(self, head: int) -> None:
        m = self.k.machine
        m.write_u64(head + self.next, head)
        m.write_u64(head + self.prev, head)

    def list_empty(self, head: int) -> bool:
        return self.k.machine.read_u64(head + self.next) == head

    def list_add_between(self, new: int, prev: int, nxt: int) -> None:
        m = self.k.machine
        m.write_u64(nxt + self.prev, new)
        m.write_u64(new + self.next, nxt)
        m.write_u64(new + self.prev, prev)
        m.write_u64(prev + self.next, new)

    def list_add(self, new: int, head: int) -> None:
        self.list_add_between(new, head, self.k.machine.read_u64(head + self.next))

    def list_add_tail(self, new: int, head: int) -> None:
        self.list_add_between(new, self.k.machine.read_u64(head + self.prev), head)

    def list_unlink(self, entry: int) -> None:
        m = self.k.machine
        prev = m.read_u64(entry + self.prev)
        nxt = m.read_u64(entry + self.next)
        m.write_u64(nxt + self.prev, prev)
        m.write_u64(prev + self.next, nxt)

    def list_del(self, entry: int) -> None:
        self.list_unlink(entry)
        m = self.k.machine
        m.write_u64(entry + self.next, LIST_POISON1)
        m.write_u64(entry + self.prev, LIST_POISON2)

    def list_del_init(self, entry: int) -> None:
        self.list_unlink(entry)
        self.list_init(entry)

    def entries(self, head: int):
        """The list's nodes, the next one read before each is yielded (safe iteration)."""
        m = self.k.machine
        pos = m.read_u64(head + self.next)
        while pos != head:
            nxt = m.read_u64(pos + self.next)
            yield pos
            pos = nxt

    # -------------------------------------------------------- wait queues
    def add(self, head: int, entry: int) -> None:
        """__add_wait_queue(): after the priority entries."""
        m = self.k.machine
        where = head + self.h_head
        for node in self.entries(head + self.h_head):
            if not m.read_u32(node - self.e_entry + self.e_flags) & self.PRIORITY:
                break
            where = node
        self.list_add(entry + self.e_entry, where)

    def add_tail(self, head: int, entry: int) -> None:
        self.list_add_tail(entry + self.e_entry, head + self.h_head)

    def known(self) -> dict:
        """kemu's wake functions by address: fn(entry, mode, wake_flags, key) -> int."""
        if self._known is None:
            k = self.k
            self._known = {
                k.export_addr("default_wake_function"): self.default_wake,
                k.export_addr("autoremove_wake_function"): self.autoremove_wake,
                k.export_addr("woken_wake_function"): self.woken_wake,
                k.export_addr("wake_bit_function"): self.wake_bit,
                self.var_wake_addr(): self.var_wake,
            }
        return self._known

    def default_wake(self, entry, mode, wake_flags, key) -> int:
        ts = self.k.machine.read_u64(entry + self.e_private)
        return self.s.ttwu(self.s.task_of(ts), mode)

    def autoremove_wake(self, entry, mode, wake_flags, key) -> int:
        ret = self.default_wake(entry, mode, wake_flags, key)
        if ret:
            self.list_del_init(entry + self.e_entry)
        return ret

    def woken_wake(self, entry, mode, wake_flags, key) -> int:
        m = self.k.machine
        m.write_u32(entry + self.e_flags, m.read_u32(entry + self.e_flags) | self.WOKEN)
        return self.default_wake(entry, mode, wake_flags, key)

    def _key_matches(self, entry, key) -> bool:
        m = self.k.machine
        wbq = entry - self.wbq_entry
        return key != 0 and \
            m.read_u64(wbq + self.wbq_key + self.kb_flags) == m.read_u64(key + self.kb_flags) \
            and m.read_u32(wbq + self.wbq_key + self.kb_bit) == m.read_u32(key + self.kb_bit)

    def wake_bit(self, entry, mode, wake_flags, key) -> int:
        m = self.k.machine
        if not self._key_matches(entry, key):
            return 0
        word, bit = m.read_u64(key + self.kb_flags), m.read_s32(key + self.kb_bit)
        if bit >= 0 and m.read_u64(word + 8 * (bit // 64)) >> (bit % 64) & 1:
            return 0
        return self.autoremove_wake(entry, mode, wake_flags, key)

    def var_wake(self, entry, mode, wake_flags, key) -> int:
        if not self._key_matches(entry, key):
            return 0
        return self.autoremove_wake(entry, mode, wake_flags, key)

    def var_wake_addr(self) -> int:
        """var_wake_function (static in the kernel): a slot of its own."""
        if not hasattr(self, "_var_wake"):
            m = self.k.machine

            def slot():
                entry, mode, flags, key = m.int_args(4)
                m.set_return(self.var_wake(entry, mode & 0xFFFFFFFF, flags & 0xFFFFFFFF, key))
            self._var_wake = m.add_slot("var_wake_function", slot)
        return self._var_wake

    def wake_up(self, head: int, mode: int, nr_exclusive: int, wake_flags: int, key: int):
        """__wake_up_common() (a generator)."""
        m = self.k.machine
        known = self.known()
        for node in self.entries(head + self.h_head):
            entry = node - self.e_entry
            flags = m.read_u32(entry + self.e_flags)
            func = m.read_u64(entry + self.e_func)
            fn = known.get(func)
            if fn is not None:
                ret = fn(entry, mode, wake_flags, key)
            else:
                raw = yield self.k.call_request(func, entry, mode, wake_flags, key)
                ret = raw & 0xFFFFFFFF
                ret = ret - (1 << 32) if ret >> 31 else ret
            if ret < 0:
                break
            if ret and flags & self.EXCLUSIVE:
                nr_exclusive -= 1
                if nr_exclusive == 0:
                    break
        return nr_exclusive

    # ------------------------------------------------------------- swait
    def swake_one(self, q: int) -> None:
        """swake_up_locked()."""
        head = q + self.sq_list
        if self.list_empty(head):
            return
        node = self.k.machine.read_u64(head + self.next)
        ts = self.k.machine.read_u64(node - self.sw_list + self.sw_task)
        self.s.wake_up_process(self.s.task_of(ts))
        self.list_del_init(node)

    def swake_all(self, q: int) -> None:
        head = q + self.sq_list
        while not self.list_empty(head):
            self.swake_one(q)

    def swait_entry(self, task) -> int:
        """The task's own struct swait_queue (DECLARE_SWAITQUEUE on the kernel's stack)."""
        if not task.swait:
            m, t = self.k.machine, self.k.target
            task.swait = m.alloc_kdata(t.sizeof("swait_queue"), 8)
            m.write_u64(task.swait + self.sw_task, task.ts)
            self.list_init(task.swait + self.sw_list)
        return task.swait

    # ------------------------------------------------------------ bit waits
    def bit_table(self) -> int:
        if not self._bit_table:
            m, t = self.k.machine, self.k.target
            size = t.sizeof("wait_queue_head")
            self._bit_table = m.alloc_kdata(size << WAIT_TABLE_BITS, 64)
            for i in range(1 << WAIT_TABLE_BITS):
                self.list_init(self._bit_table + i * size + self.h_head)
        return self._bit_table

    def hashed_head(self, value: int) -> int:
        idx = ((value * GOLDEN_RATIO_64) & MASK64) >> (64 - WAIT_TABLE_BITS)
        return self.bit_table() + idx * self.k.target.sizeof("wait_queue_head")

    def scratch_key(self, word: int, bit: int) -> int:
        m = self.k.machine
        addr = self._scratch.pop() if self._scratch else \
            m.alloc_kdata(self.k.target.sizeof("wait_bit_key"), 8)
        m.write(addr, bytes(self.k.target.sizeof("wait_bit_key")))
        m.write_u64(addr + self.kb_flags, word)
        m.write_u32(addr + self.kb_bit, bit)
        return addr

    def wake_up_bit(self, head: int, word: int, bit: int):
        """__wake_up_bit() (a generator)."""
        if self.list_empty(head + self.h_head):
            return
        key = self.scratch_key(word, bit)
        try:
            yield from self.wake_up(head, self.s.TASK_NORMAL, 1, 0, key)
        finally:
            self._scratch.append(key)


def waitq(k) -> WaitQueues:
    return k.model(WaitQueues)


def _signed(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >> 31 else v


@export("void __init_waitqueue_head(struct wait_queue_head *wq_head, const char *name, "
        "struct lock_class_key *key)")
def __init_waitqueue_head(k, wq_head, name, key):
    w = waitq(k)
    k.machine.write_u32(wq_head + w.h_lock, 0)
    w.list_init(wq_head + w.h_head)


@export("void init_wait_entry(struct wait_queue_entry *wq_entry, int flags)")
def init_wait_entry(k, wq_entry, flags):
    w = waitq(k)
    m = k.machine
    m.write_u32(wq_entry + w.e_flags, flags)
    m.write_u64(wq_entry + w.e_private, w.s.current().ts)
    m.write_u64(wq_entry + w.e_func, k.export_addr("autoremove_wake_function"))
    w.list_init(wq_entry + w.e_entry)


@export("long prepare_to_wait_event(struct wait_queue_head *wq_head, "
        "struct wait_queue_entry *wq_entry, int state)")
def prepare_to_wait_event(k, wq_head, wq_entry, state):
    w = waitq(k)
    s = w.s
    task = s.current()
    if s.signal_pending_state(state, task):
        w.list_del_init(wq_entry + w.e_entry)
        return -k.target.const("ERESTARTSYS")
    if w.list_empty(wq_entry + w.e_entry):
        if k.machine.read_u32(wq_entry + w.e_flags) & w.EXCLUSIVE:
            w.add_tail(wq_head, wq_entry)
        else:
            w.add(wq_head, wq_entry)
    s.set_state(task, state)
    return 0


@export("void prepare_to_wait(struct wait_queue_head *wq_head, struct wait_queue_entry *wq_entry, "
        "int state)")
def prepare_to_wait(k, wq_head, wq_entry, state):
    w = waitq(k)
    m = k.machine
    m.write_u32(wq_entry + w.e_flags, m.read_u32(wq_entry + w.e_flags) & ~w.EXCLUSIVE)
    if w.list_empty(wq_entry + w.e_entry):
        w.add(wq_head, wq_entry)
    w.s.set_state(w.s.current(), state)


@export("bool prepare_to_wait_exclusive(struct wait_queue_head *wq_head, "
        "struct wait_queue_entry *wq_entry, int state)")
def prepare_to_wait_exclusive(k, wq_head, wq_entry, state):
    w = waitq(k)
    m = k.machine
    m.write_u32(wq_entry + w.e_flags, m.read_u32(wq_entry + w.e_flags) | w.EXCLUSIVE)
    was_empty = w.list_empty(wq_head + w.h_head)
    if w.list_empty(wq_entry + w.e_entry):
        w.add_tail(wq_head, wq_entry)
    w.s.set_state(w.s.current(), state)
    return was_empty


@export("void finish_wait(struct wait_queue_head *wq_head, struct wait_queue_entry *wq_entry)")
def finish_wait(k, wq_head, wq_entry):
    w = waitq(k)
    w.s.set_state(w.s.current(), w.s.TASK_RUNNING)
    if not w.list_empty(wq_entry + w.e_entry):
        w.list_del_init(wq_entry + w.e_entry)


@export("void add_wait_queue(struct wait_queue_head *wq_head, struct wait_queue_entry *wq_entry)")
def add_wait_queue(k, wq_head, wq_entry):
    w = waitq(k)
    m = k.machine
    m.write_u32(wq_entry + w.e_flags, m.read_u32(wq_entry + w.e_flags) & ~w.EXCLUSIVE)
    w.add(wq_head, wq_entry)


@export("void add_wait_queue_exclusive(struct wait_queue_head *wq_head, "
        "struct wait_queue_entry *wq_entry)")
def add_wait_queue_exclusive(k, wq_head, wq_entry):
    w = waitq(k)
    m = k.machine
    m.write_u32(wq_entry + w.e_flags, m.read_u32(wq_entry + w.e_flags) | w.EXCLUSIVE)
    w.add_tail(wq_head, wq_entry)


@export("void add_wait_queue_priority(struct wait_queue_head *wq_head, "
        "struct wait_queue_entry *wq_entry)")
def add_wait_queue_priority(k, wq_head, wq_entry):
    w = waitq(k)
    m = k.machine
    m.write_u32(wq_entry + w.e_flags,
                m.read_u32(wq_entry + w.e_flags) | w.EXCLUSIVE | w.PRIORITY)
    w.list_add(wq_entry + w.e_entry, wq_head + w.h_head)


@export("void remove_wait_queue(struct wait_queue_head *wq_head, "
        "struct wait_queue_entry *wq_entry)")
def remove_wait_queue(k, wq_head, wq_entry):
    w = waitq(k)
    w.list_del(wq_entry + w.e_entry)


@export("void __wake_up(struct wait_queue_head *wq_head, unsigned int mode, int nr_exclusive, "
        "void *key)")
def __wake_up(k, wq_head, mode, nr_exclusive, key):
    yield from waitq(k).wake_up(wq_head, mode, nr_exclusive, 0, key)


@export("void __wake_up_locked(struct wait_queue_head *wq_head, unsigned int mode, int nr)")
def __wake_up_locked(k, wq_head, mode, nr):
    yield from waitq(k).wake_up(wq_head, mode, nr, 0, 0)


@export("void __wake_up_locked_key(struct wait_queue_head *wq_head, unsigned int mode, "
        "void *key)")
def __wake_up_locked_key(k, wq_head, mode, key):
    yield from waitq(k).wake_up(wq_head, mode, 1, 0, key)


@export("void __wake_up_locked_key_bookmark(struct wait_queue_head *wq_head, unsigned int mode, "
        "void *key, wait_queue_entry_t *bookmark)")
def __wake_up_locked_key_bookmark(k, wq_head, mode, key, bookmark):
    yield from waitq(k).wake_up(wq_head, mode, 1, 0, key)


@export("void __wake_up_sync_key(struct wait_queue_head *wq_head, unsigned int mode, void *key)")
def __wake_up_sync_key(k, wq_head, mode, key):
    yield from waitq(k).wake_up(wq_head, mode, 1, 1, key)


@export("void __wake_up_locked_sync_key(struct wait_queue_head *wq_head, unsigned int mode, "
        "void *key)")
def __wake_up_locked_sync_key(k, wq_head, mode, key):
    yield from waitq(k).wake_up(wq_head, mode, 1, 1, key)


@export("void __wake_up_sync(struct wait_queue_head *wq_head, unsigned int mode)")
def __wake_up_sync(k, wq_head, mode):
    yield from waitq(k).wake_up(wq_head, mode, 1, 1, 0)


@export("int default_wake_function(wait_queue_entry_t *curr, unsigned mode, int wake_flags, "
        "void *key)")
def default_wake_function(k, curr, mode, wake_flags, key):
    return waitq(k).default_wake(curr, mode, wake_flags, key)


@export("int autoremove_wake_function(struct wait_queue_entry *wq_entry, unsigned mode, "
        "int sync, void *key)")
def autoremove_wake_function(k, wq_entry, mode, sync, key):
    return waitq(k).autoremove_wake(wq_entry, mode, sync, key)


@export("int woken_wake_function(struct wait_queue_entry *wq_entry, unsigned mode, int sync, "
        "void *key)")
def woken_wake_function(k, wq_entry, mode, sync, key):
    return waitq(k).woken_wake(wq_entry, mode, sync, key)


@export("long wait_woken(struct wait_queue_entry *wq_entry, unsigned mode, long timeout)")
def wait_woken(k, wq_entry, mode, timeout):
    w = waitq(k)
    s, m = w.s, k.machine
    task = s.current()
    s.set_state(task, mode)
    stop = task.data.get("kthread") and (task.data["kthread"].should_stop or
                                         task.data["kthread"].should_park)
    if not m.read_u32(wq_entry + w.e_flags) & w.WOKEN and not stop:
        timeout = yield from s.schedule_timeout(timeout, "wait_woken", caller(k))
    s.set_state(task, s.TASK_RUNNING)
    m.write_u32(wq_entry + w.e_flags, m.read_u32(wq_entry + w.e_flags) & ~w.WOKEN)
    return timeout


# -------------------------------------------------------------------- swait
@export("void __init_swait_queue_head(struct swait_queue_head *q, const char *name, "
        "struct lock_class_key *key)")
def __init_swait_queue_head(k, q, name, key):
    w = waitq(k)
    k.machine.write_u32(q + w.sq_lock, 0)
    w.list_init(q + w.sq_list)


@export("void swake_up_locked(struct swait_queue_head *q)")
def swake_up_locked(k, q):
    waitq(k).swake_one(q)


@export("void swake_up_one(struct swait_queue_head *q)")
def swake_up_one(k, q):
    waitq(k).swake_one(q)


@export("void swake_up_all(struct swait_queue_head *q)")
def swake_up_all(k, q):
    waitq(k).swake_all(q)


@export("void prepare_to_swait_exclusive(struct swait_queue_head *q, struct swait_queue *wait, "
        "int state)")
def prepare_to_swait_exclusive(k, q, wait, state):
    w = waitq(k)
    if w.list_empty(wait + w.sw_list):
        w.list_add_tail(wait + w.sw_list, q + w.sq_list)
    w.s.set_state(w.s.current(), state)


@export("long prepare_to_swait_event(struct swait_queue_head *q, struct swait_queue *wait, "
        "int state)")
def prepare_to_swait_event(k, q, wait, state):
    w = waitq(k)
    s = w.s
    task = s.current()
    if s.signal_pending_state(state, task):
        w.list_del_init(wait + w.sw_list)
        return -k.target.const("ERESTARTSYS")
    if w.list_empty(wait + w.sw_list):
        w.list_add_tail(wait + w.sw_list, q + w.sq_list)
    s.set_state(task, state)
    return 0


@export("void finish_swait(struct swait_queue_head *q, struct swait_queue *wait)")
def finish_swait(k, q, wait):
    w = waitq(k)
    w.s.set_state(w.s.current(), w.s.TASK_RUNNING)
    if not w.list_empty(wait + w.sw_list):
        w.list_del_init(wait + w.sw_list)


# ---------------------------------------------------------------- bit waits
@export("wait_queue_head_t *bit_waitqueue(void *word, int bit)")
def bit_waitqueue(k, word, bit):
    return waitq(k).hashed_head(((word << 6) | (bit & 0xFFFFFFFFFFFFFFFF)) & MASK64)


@export("wait_queue_head_t *__var_waitqueue(void *p)")
def __var_waitqueue(k, p):
    return waitq(k).hashed_head(p)


@export("void init_wait_var_entry(struct wait_bit_queue_entry *wbq_entry, void *var, int flags)")
def init_wait_var_entry(k, wbq_entry, var, flags):
    w = waitq(k)
    m = k.machine
    m.write(wbq_entry, bytes(k.target.sizeof("wait_bit_queue_entry")))
    m.write_u64(wbq_entry + w.wbq_key + w.kb_flags, var)
    m.write_u32(wbq_entry + w.wbq_key + w.kb_bit, 0xFFFFFFFF)
    entry = wbq_entry + w.wbq_entry
    m.write_u32(entry + w.e_flags, flags)
    m.write_u64(entry + w.e_private, w.s.current().ts)
    m.write_u64(entry + w.e_func, w.var_wake_addr())
    w.list_init(entry + w.e_entry)


@export("void wake_up_var(void *var)")
def wake_up_var(k, var):
    w = waitq(k)
    yield from w.wake_up_bit(w.hashed_head(var), var, -1)


@export("void __wake_up_bit(struct wait_queue_head *wq_head, void *word, int bit)")
def __wake_up_bit(k, wq_head, word, bit):
    yield from waitq(k).wake_up_bit(wq_head, word, bit)


@export("void wake_up_bit(void *word, int bit)")
def wake_up_bit(k, word, bit):
    w = waitq(k)
    yield from w.wake_up_bit(w.hashed_head(((word << 6) | bit) & MASK64), word, bit)


@export("int wake_bit_function(struct wait_queue_entry *wq_entry, unsigned mode, int sync, "
        "void *key)")
def wake_bit_function(k, wq_entry, mode, sync, key):
    return waitq(k).wake_bit(wq_entry, mode, sync, key)


@export("int bit_wait(struct wait_bit_key *word, int mode)")
def bit_wait(k, word, mode):
    s = sched(k)
    yield from s.schedule("bit_wait", caller=caller(k))
    return -4 if s.signal_pending_state(mode, s.current()) else 0


@export("int bit_wait_io(struct wait_bit_key *word, int mode)")
def bit_wait_io(k, word, mode):
    s = sched(k)
    yield from s.schedule("bit_wait_io", caller=caller(k))
    return -4 if s.signal_pending_state(mode, s.current()) else 0


def _signed64(v: int) -> int:
    v &= MASK64
    return v - (1 << 64) if v >> 63 else v


def _wait_on_bit(k, head, word, bit, action, mode, where, timeout=None, lock=False):
    """__wait_on_bit() (``lock``: __wait_on_bit_lock(), taking the bit when it is
    clear) with the task's own wait_bit_queue_entry (a generator); ``timeout``
    is the absolute jiffies the key's ->timeout holds."""
    w = waitq(k)
    s, m = w.s, k.machine
    task = s.current()
    wbq = task.data.get("wbq")
    if wbq is None:
        wbq = task.data["wbq"] = m.alloc_kdata(k.target.sizeof("wait_bit_queue_entry"), 8)
    m.write(wbq, bytes(k.target.sizeof("wait_bit_queue_entry")))
    m.write_u64(wbq + w.wbq_key + w.kb_flags, word)
    m.write_u32(wbq + w.wbq_key + w.kb_bit, bit)
    if timeout is not None:
        m.write_u64(wbq + w.wbq_key + k.target.offset("wait_bit_key.timeout"), timeout)
    entry = wbq + w.wbq_entry
    m.write_u64(entry + w.e_private, task.ts)
    m.write_u64(entry + w.e_func, k.export_addr("wake_bit_function"))
    w.list_init(entry + w.e_entry)

    def test():
        return m.read_u64(word + 8 * (bit // 64)) >> (bit % 64) & 1

    def test_and_set():
        addr = word + 8 * (bit // 64)
        old = m.read_u64(addr)
        m.write_u64(addr, old | 1 << (bit % 64))
        return old >> (bit % 64) & 1

    if lock:                                 # __wait_on_bit_lock(), as 6.1 has it
        while True:
            ret = 0
            prepare_to_wait_exclusive(k, head, entry, mode)
            if test():
                ret = _signed((yield k.call_request(action, wbq + w.wbq_key, mode)))
                if ret:
                    finish_wait(k, head, entry)
            if not test_and_set():
                if not ret:
                    finish_wait(k, head, entry)
                return 0
            if ret:
                return ret
    ret = 0
    known = {k.export_addr("bit_wait"), k.export_addr("bit_wait_io")}
    while True:
        prepare_to_wait(k, head, entry, mode)
        if test():
            if action in known:
                yield from s.schedule("wait_on_bit", caller=where)
                ret = -4 if s.signal_pending_state(mode, task) else 0
            else:
                ret = _signed((yield k.call_request(action, wbq + w.wbq_key, mode)))
        if not (test() and not ret):
            break
    finish_wait(k, head, entry)
    return ret


@export("int out_of_line_wait_on_bit(void *word, int bit, wait_bit_action_f *action, "
        "unsigned int mode)")
def out_of_line_wait_on_bit(k, word, bit, action, mode):
    w = waitq(k)
    head = w.hashed_head(((word << 6) | bit) & MASK64)
    return (yield from _wait_on_bit(k, head, word, bit, action, mode, caller(k)))


@export("int out_of_line_wait_on_bit_timeout(void *word, int bit, wait_bit_action_f *action, "
        "unsigned int mode, unsigned long timeout)")
def out_of_line_wait_on_bit_timeout(k, word, bit, action, mode, timeout):
    w = waitq(k)
    head = w.hashed_head(((word << 6) | bit) & MASK64)
    return (yield from _wait_on_bit(k, head, word, bit, action, mode, caller(k),
                                    timeout=(k.jiffies() + timeout) & MASK64))


@export("int out_of_line_wait_on_bit_lock(void *word, int bit, wait_bit_action_f *action, "
        "unsigned int mode)")
def out_of_line_wait_on_bit_lock(k, word, bit, action, mode):
    w = waitq(k)
    head = w.hashed_head(((word << 6) | bit) & MASK64)
    return (yield from _wait_on_bit(k, head, word, bit, action, mode, caller(k), lock=True))


@export("int bit_wait_timeout(struct wait_bit_key *word, int mode)")
def bit_wait_timeout(k, word, mode):
    """-EAGAIN once the key's ->timeout has passed, else sleep until it (or a wake)."""
    s = sched(k)
    now = k.jiffies()
    deadline = k.machine.read_u64(word + k.target.offset("wait_bit_key.timeout"))
    if _signed64(now - deadline) >= 0:
        return -11
    yield from s.schedule_timeout(_signed64(deadline - now), "bit_wait_timeout", caller(k))
    return -4 if s.signal_pending_state(mode, s.current()) else 0


# ------------------------------------------------------------------ rcuwait
@export("int rcuwait_wake_up(struct rcuwait *w)")
def rcuwait_wake_up(k, w):
    s = sched(k)
    ts = k.machine.read_u64(w + k.target.offset("rcuwait.task"))
    return s.wake_up_process(s.task_of(ts)) if ts else 0


@export("void finish_rcuwait(struct rcuwait *w)")
def finish_rcuwait(k, w):
    s = sched(k)
    k.machine.write_u64(w + k.target.offset("rcuwait.task"), 0)
    s.set_state(s.current(), s.TASK_RUNNING)
