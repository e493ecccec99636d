"""kernel/async.c: asynchronous function calls.

``async_schedule_node`` runs ``func(data, cookie)`` at once and returns its
cookie (Linux queues it on system_unbound_wq; kemu's one CPU would run it at
the next scheduling point, and nothing can observe the difference before an
``async_synchronize_*``, which then has nothing left to wait for).
"""
from __future__ import annotations

from kemu import export


class Async:
    def __init__(self, k):
        self.next_cookie = 1


@export("async_cookie_t async_schedule_node(void (*func)(void *data, async_cookie_t cookie), "
        "void *data, int node)")
def async_schedule_node(k, func, data, node):
    a = k.model(Async)
    cookie = a.next_cookie
    a.next_cookie += 1
    yield k.call_request(func, data, cookie)
    return cookie


@export("void async_synchronize_full(void)")
def async_synchronize_full(k):
    """Every async call has run already."""


@export("void async_synchronize_cookie(async_cookie_t cookie)")
def async_synchronize_cookie(k, cookie):
    """Every async call has run already."""
