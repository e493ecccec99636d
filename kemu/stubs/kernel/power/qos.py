"""kernel/power/qos.c: CPU latency QoS requests (cpu_latency_qos_*).

Requests are kept as the kernel keeps them on ``cpu_latency_constraints``:
adding one twice or updating/removing one never added WARNs with the
kernel's message and changes nothing; a request still added after its
module's exit is reported. The aggregated constraint is not applied (kemu's
CPU has no idle states to limit).
"""
from __future__ import annotations

from kemu import export

from ...lib.kemu_warn import warn


class CpuLatencyQos:
    def __init__(self, k):
        self.requests: dict[int, int] = {}          # req -> value


@export("bool cpu_latency_qos_request_active(struct pm_qos_request *req)")
def cpu_latency_qos_request_active(k, req):
    return req in k.model(CpuLatencyQos).requests


@export("void cpu_latency_qos_add_request(struct pm_qos_request *req, s32 value)")
def cpu_latency_qos_add_request(k, req, value):
    if not req:
        return
    qos = k.model(CpuLatencyQos)
    if req in qos.requests:
        warn(k, "kernel/power/qos.c:270", "cpu_latency_qos_add_request",
             "cpu_latency_qos_add_request called for already added request")
        return
    qos.requests[req] = value
    k.register("cpu latency qos", req, k.current_module(), "CPU latency QoS request")


@export("void cpu_latency_qos_update_request(struct pm_qos_request *req, s32 new_value)")
def cpu_latency_qos_update_request(k, req, new_value):
    qos = k.model(CpuLatencyQos)
    if not req:
        return
    if req not in qos.requests:
        warn(k, "kernel/power/qos.c:296", "cpu_latency_qos_update_request",
             "cpu_latency_qos_update_request called for unknown object")
        return
    qos.requests[req] = new_value


@export("void cpu_latency_qos_remove_request(struct pm_qos_request *req)")
def cpu_latency_qos_remove_request(k, req):
    qos = k.model(CpuLatencyQos)
    if not req:
        return
    if req not in qos.requests:
        warn(k, "kernel/power/qos.c:322", "cpu_latency_qos_remove_request",
             "cpu_latency_qos_remove_request called for unknown object")
        return
    del qos.requests[req]
    k.unregister("cpu latency qos", req)
