"""NoC crossbar router RTL vs hwsim's NoC kernel: every packet's latency equal under contention.

The cocotb side plays the terminals exactly as the model's terminals behave (one flit per cycle
when a credit is held, one VC, a new packet only after the previous tail's credit returned) and
applies the model's delays around the router: a flit a terminal sends in cycle t is received by
the router in t + link_latency + 1; a flit leaving the router (switch allocation in cycle w) is
ejected in w + crossbar_delay + link_latency + 1; credits are usable credit_delay cycles after the
slot was freed. Latency = ejection cycle of the tail - creation cycle, as in the model.
"""
from collections import deque
from pathlib import Path

import numpy as np
import pytest

from hwsim.components.interconnect.noc import RouterSpec, crossbar, simulate_noc
from hwsim.components.interconnect.noc.traffic import Packets

cocotb = pytest.importorskip("cocotb", reason="cocotb 2.x is not installed (pip install -e .[dev])")
from cocotb.clock import Clock  # noqa: E402
from cocotb.triggers import FallingEdge, RisingEdge  # noqa: E402

HDL = Path(__file__).resolve().parents[2] / "rtl_models" / "noc_router" / "hdl"
PORTS, DEPTH, DW, PW = 4, 4, 2, 8
ROUTER = RouterSpec(num_vcs=1, vc_buf_size=DEPTH)   # the delays the RTL implements
FW = PW + DW + 2


@pytest.mark.rtl
def test_noc_router_rtl(run_cocotb):
    run_cocotb("noc_router", sources=[HDL / "noc_crossbar_router.sv"], toplevel="noc_crossbar_router",
               test_module="test_noc_router", parameters={"N": PORTS, "DEPTH": DEPTH, "DW": DW, "PW": PW})


def stimulus(seed, count=120, span=150):
    """Random contended traffic: packets of 1..6 flits, hot destination 0 half of the time."""
    rng = np.random.default_rng(seed)
    created = np.sort(rng.integers(0, span, count))
    dst = np.where(rng.random(count) < 0.5, 0, rng.integers(0, PORTS, count))
    return Packets(rng.integers(0, PORTS, count).astype(np.int64), dst.astype(np.int64),
                   created.astype(np.int64), rng.integers(1, 7, count).astype(np.int64))


# ---- cocotb side (runs inside the simulator) -------------------------------------------------

def flit_word(packet, dst, index, flits):
    return (packet << (DW + 2)) | (dst << 2) | ((index == flits - 1) << 1) | (index == 0)


async def run_terminals(dut, packets):
    """Cycle loop; returns each packet's tail ejection cycle."""
    wire = ROUTER.crossbar_delay + ROUTER.link_latency + 1
    queues = [deque(np.flatnonzero(packets.src == t).tolist()) for t in range(PORTS)]
    credits = [DEPTH] * PORTS            # terminal t's credits for its router input
    busy = [False] * PORTS               # its VC holds a packet until the tail's credit returns
    current = [None] * PORTS             # (packet, next flit index)
    sent = [deque() for _ in range(PORTS)]          # flits in the router's input buffer, in order
    terminal_credits = {}                # cycle -> [(terminal, tail)]
    router_inputs = {}                   # cycle presented -> [(port, word)]
    router_credits = {}                  # cycle presented -> [(port, tail)]
    ejected = np.full(len(packets), -1, np.int64)
    for cycle in range(5000):
        await FallingEdge(dut.clk)
        out_valid, out_flit = int(dut.out_valid.value), dut.out_flit.value.to_unsigned()
        credit_out = int(dut.credit_out.value)
        for port in range(PORTS):
            if out_valid >> port & 1:                         # switch allocation in cycle - 1
                word = out_flit >> (port * FW) & ((1 << FW) - 1)
                eject = cycle - 1 + wire
                tail = bool(word >> 1 & 1)
                if tail:
                    ejected[word >> (DW + 2)] = eject
                router_credits.setdefault(eject + ROUTER.credit_delay - 1, []).append((port, tail))
            if credit_out >> port & 1:
                tail = sent[port].popleft()
                terminal_credits.setdefault(cycle - 1 + ROUTER.credit_delay, []).append((port, tail))
        for terminal, tail in terminal_credits.pop(cycle, []):
            credits[terminal] += 1
            busy[terminal] = busy[terminal] and not tail
        for terminal in range(PORTS):
            if current[terminal] is None and queues[terminal] and not busy[terminal] \
                    and packets.created[queues[terminal][0]] <= cycle:
                current[terminal] = (queues[terminal].popleft(), 0)
                busy[terminal] = True
            if current[terminal] is not None and credits[terminal] > 0:
                packet, index = current[terminal]
                flits = int(packets.flits[packet])
                word = flit_word(packet, int(packets.dst[packet]), index, flits)
                router_inputs.setdefault(cycle + ROUTER.link_latency, []).append((terminal, word))
                sent[terminal].append(index == flits - 1)
                credits[terminal] -= 1
                current[terminal] = (packet, index + 1) if index + 1 < flits else None
        valid = flits_in = credit_in = credit_tail = 0
        for port, word in router_inputs.pop(cycle, []):
            valid |= 1 << port
            flits_in |= word << (port * FW)
        for port, tail in router_credits.pop(cycle, []):
            credit_in |= 1 << port
            credit_tail |= tail << port
        dut.in_valid.value, dut.in_flit.value = valid, flits_in
        dut.credit_in.value, dut.credit_in_tail.value = credit_in, credit_tail
        if (ejected >= 0).all():
            return ejected
    raise AssertionError(f"{(ejected < 0).sum()} packets never left the router")


async def reset(dut):
    for signal in (dut.in_valid, dut.in_flit, dut.credit_in, dut.credit_in_tail):
        signal.value = 0
    dut.rst_n.value = 0
    await RisingEdge(dut.clk)
    await RisingEdge(dut.clk)
    dut.rst_n.value = 1
    await RisingEdge(dut.clk)


@cocotb.test()
async def contended_packets_have_the_model_latencies(dut):
    Clock(dut.clk, 10, unit="ns").start()
    for seed in range(4):
        await reset(dut)                 # credits of the last packets may still be in flight
        packets = stimulus(seed)
        model = simulate_noc(crossbar(PORTS), ROUTER, packets).latency
        rtl = await run_terminals(dut, packets) - packets.created
        bad = np.flatnonzero(rtl != model)[:8]
        assert not len(bad), f"seed {seed}: packets {bad.tolist()} RTL {rtl[bad].tolist()} model {model[bad].tolist()}"
        assert model.max() > 3 * model.min(), "the stimulus should contend"
        dut._log.info("seed %d: %d packets, latencies %d..%d cycles, RTL = model", seed, len(packets),
                      model.min(), model.max())
