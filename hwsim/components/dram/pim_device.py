"""PIM DRAM devices (AiM-like MAC units in every bank) that run GEMV and attention operators.

An op is mapped onto the channels of all devices (pim_mapping.py), turned into each channel's
command stream and timed cycle by cycle by the in-order stream kernel (pim_kernel.py). Channels that
receive equal shares run identical streams with identical timing (the kernel is deterministic and a
stream's timing does not depend on row addresses), so the busiest channel's stream is simulated and
the op completes when it does; all channels share one refresh phase, carried from op to op: refreshes
that come due while the channels wait between ops (host link, host or accelerator work) are issued
then, and cost the next op nothing unless still running when it starts: Ramulator 2.0's AllBankRefresh
(dram_controller/impl/refresh, inherited by CENT's aim_simulator) queues a REF every nREFI on the
clock whatever the load, and DDR4 (JESD79-4, refresh) lets a controller postpone at most 8. A stream
repeated many times (a matmul's GEMV per input row) is timed exactly without issuing every
repetition (pim_repeat.py).
Under tensor parallelism over `devices`, every matmul's input is broadcast to the devices and its
output gathered over the host link (latency + bytes / bandwidth each way); attention and the KV
cache may be confined to `attention_devices` of them (CENT keeps them on one device). Partial sums
(input chunks larger than the global buffer, keys split over channels) are added by the host's
reduction lanes after the stream.

Energy per op: per-command energies of the preset x commands of every active channel (each runs the
busiest stream: exact for even splits, an upper bound otherwise), plus active-standby power above
precharged standby while rows are open, plus link energy. Static energy over the whole run, for every
channel whether it runs an op or not: precharged standby, and refresh at one REF per tREFI (a channel
must keep that average rate however busy it is); the REFs the kernel inserts into op streams cost
time there but their energy is this static term. Preset powers and energies are per x16 channel.
"""
from __future__ import annotations

import math
from typing import Optional

import numpy as np

from hwsim.components.base import ALL_BYTES, Component, Execution, Memory, Resource, register
from hwsim.components.dram.pim_mapping import (Layout, Stream, bank_access_stream, ewmul_stream, gemv_stream,
                                               split_work)
from hwsim.components.dram.pim_sequences import context_runs, score_groups
from hwsim.components.dram.pim_stream import RepeatPlans, simulate_commands, simulate_repeated
from hwsim.components.dram.presets import load_preset
from hwsim.components.dram.spec import with_overrides
from hwsim.components.dram.standards import COMMANDS
from hwsim.components.host.shared_buffer_accel import SharedBufferTiming
from hwsim.config.counts import Count, CountOrZero, Devices
from hwsim.config.schema import Strict
from hwsim.config.units import Bandwidth, ByteSize, Energy, Frequency, Latency
from hwsim.workload.precision import BITS

GEMV_KINDS = {"matmul": "n", "attn_score": "n", "attn_context": "k"}   # kind -> dimension split over channels
ATTENTION_KINDS = frozenset({"attn_score", "attn_context", "kv_write"})     # ops on the KV cache
REPEAT_DIRECTLY_BELOW = 1          # fewer repetitions are issued as one long stream (tests raise it to
                                   # check extrapolation; plans are kept across runs, so one run gains too)
STAGED_KINDS = frozenset({"softmax", "norm", "rope", "activation"})   # vector ops CENT stages through the banks
REFRESH = frozenset({"REF", "REFpb"})   # energy counted as static (every channel, once per tREFI)


class HostLink(Strict):
    """Link between the host and the devices (one broadcast and one gather per matmul under TP).
    With `lanes`, the host's lanes are split evenly over the devices (CENT run_sim.py:
    PCIe_lanes_per_device = PCIE_lanes // num_devices) and `bandwidth` is one lane's, so a device's
    link narrows as a bigger model takes more devices."""

    latency: Latency
    bandwidth: Bandwidth                       # per device, or per lane with `lanes`
    lanes: Optional[Count] = None              # host lanes shared by all devices
    energy_per_bit: Energy = "0J"

    def device_bandwidth(self, devices: int) -> float:
        """Bytes/s of one device's link."""
        return self.bandwidth if self.lanes is None else self.bandwidth * (self.lanes // devices)


class Reduction(Strict):
    """Adder lanes that sum partial results read out with RD_MAC: the host's, or with `per_device` each
    device's own (CENT: 16 per device), so that more devices add more lanes."""

    clock: Frequency
    lanes: Count
    per_device: bool = False


class VectorStaging(Strict):
    """A vector op CENT runs around the banks (Llama.py trace_only): the host writes a vector of the
    op's output size into the banks `writes` times and reads it back `reads` times, one burst per
    request, issued by the device's ISR DMA at one request per DRAM cycle (aim_simulator
    AiMDRAMSystem::tick decodes one host request per tick); the banks run `ewmul_passes` EWMUL passes
    over it; the arithmetic left (exp and sums, the norm's reduction and rsqrt, the rotation) runs on
    the device's `accelerator` (CENT's shared-buffer units and RISC-V cores) if given, else on the
    reduction lanes. CENT's programs, in passes over the op's vector: softmax scores 4 writes, 2 reads,
    2 EWMUL (trace_softmax); RMSNorm 4 writes (the input to both neighbour-bank halves, the scaled copy
    to two EWMUL bank groups), 1 read, 2 EWMUL (trace_norm); rotary 4 writes (xq and xk re-mapped at
    twice their size, and again for the results: the trace stores where its comment says load), 0
    reads, 1 EWMUL (trace_fc_kqvo); SiLU x gate 3 writes, 1 read, 2 EWMUL (trace_activation, one
    iteration)."""

    writes: CountOrZero
    reads: CountOrZero
    ewmul_passes: Count
    accelerator: Optional[SharedBufferTiming] = None


class PimParams(Strict):
    source: str
    assumptions: Optional[str] = None          # every input the source does not give
    preset: str                                # a DRAM preset with PIM commands (GDDR6_AiM, HBM3_PIM, ...)
    timing_overrides: dict[str, int] = {}      # e.g. {nCCDAB: 4}
    channels: Count                            # PIM channels per device
    devices: Devices = 1                       # devices under tensor parallelism
    attention_devices: Optional[Devices] = None   # devices holding the KV cache (default: all)
    mac_banks: Optional[Count] = None          # banks with a MAC unit per channel (default: all)
    global_buffer: ByteSize = "2KB"            # per channel
    formats: list[str] = ["bf16", "fp16"]      # number formats the MAC units run
    pack_rows: bool = True                     # PIM-GPT head concatenation / row packing
    mac_registers: Count = 1                   # matmul readouts accumulated before RD_MAC (CENT reuse-GB: 32)
    separate_matrices: dict[str, Count] = {}         # op name -> equal matrices mapped one by one (CENT: qkv 3)
    keys_over_banks: bool = False              # K cache one token per bank over all devices (CENT)
    values_by_kv_head: bool = False            # V of a KV head whole in one channel, one pass per query head (CENT)
    staging: dict[str, VectorStaging] = {}     # vector op kind -> staged through the banks (CENT)
    refresh: bool = True
    reduction: Reduction
    link: Optional[HostLink] = None            # required when devices > 1
    sampling: Optional[Latency] = None        # host CPU sampling the next token after `lm_head` (see below)


@register
class PimDram(Component):
    type_name = "pim_dram"
    Params = PimParams
    stats = {"busy_s": "time running ops (s)", "row_hit_rate": "MAC columns served without an ACT",
             "commands": "DRAM commands issued on all channels",
             "simulated_commands": "commands the kernel issued one by one",
             "stream_s": "time the channels run command streams (s)",
             "link_s": "time on the host link (s)", "reduction_s": "host partial-sum time (s)",
             "command_energy_j": "DRAM command energy of all ops on all channels, refresh excluded (J)",
             "open_row_energy_j": "active standby above precharged standby while rows are open (J)",
             "link_energy_j": "host link energy (J)"}

    def __init__(self, name, params, sim):
        super().__init__(name, params, sim)
        spec = load_preset(params.preset)
        self.spec = with_overrides(spec, **params.timing_overrides) if params.timing_overrides else spec
        if "nCCDAB" not in self.spec.timings:
            raise ValueError(f"{name}: preset {params.preset} has no PIM commands")
        if unstaged := sorted(set(params.staging) - STAGED_KINDS):
            raise ValueError(f"{name}: staging runs {sorted(STAGED_KINDS)} ops, not {unstaged}")
        if params.global_buffer < self.spec.org.burst_bytes:
            raise ValueError(f"{name}: global_buffer {params.global_buffer} B holds less than one "
                             f"{self.spec.org.burst_bytes} B burst of {params.preset}")
        if params.devices > 1 and params.link is None:
            raise ValueError(f"{name}: {params.devices} devices need a `link`")
        if params.link and (params.link.lanes or params.devices) < params.devices:
            raise ValueError(f"{name}: link.lanes {params.link.lanes} < devices {params.devices} (a lane each)")
        self.link_bandwidth = params.link.device_bandwidth(params.devices) if params.link else 0.0
        self.reduction_lanes = params.reduction.lanes * (params.devices if params.reduction.per_device else 1)
        if (params.attention_devices or 1) > params.devices:
            raise ValueError(f"{name}: attention_devices {params.attention_devices} > devices {params.devices}")
        org = self.spec.org
        self.banks = params.mac_banks or org.banks_per_rank
        self.n_channels = params.channels * params.devices
        self._free_ps = 0
        self._refresh_due = self.spec["nREFI"]
        self._idle_cycle = 0                        # the channels are idle (no command, no staging burst) from here
        self._counts = np.zeros(len(COMMANDS), np.int64)
        self._simulated = 0
        self._plans = RepeatPlans.shared(self.spec)   # a layer's streams recur in every layer and step
        self.spec = self._plans.spec                  # an equal spec, shared: compared by identity per stream
        self._busy_ps = self._stream_ps = self._link_ps = self._reduce_ps = 0
        self._flops = self._bytes = 0.0
        energy = self.spec.energy
        self._command_pj = np.array([0.0 if c in REFRESH else energy.get(c, 0.0) for c in COMMANDS])
        self._energy_tally = {"command": 0.0, "open_row": 0.0, "link": 0.0}
        self._memories = [Memory(f"{self.name}.dram", self.n_channels * org.channel_bytes, ALL_BYTES)]

    # ---- mapping -----------------------------------------------------------------------------------
    def _layout(self, dtype: str) -> Layout:
        if dtype not in self.params.formats:
            raise ValueError(f"{self.name}: PIM MAC units run {self.params.formats}, not {dtype} "
                             f"(run the trace with a bf16 precision)")
        org = self.spec.org
        lanes = int(org.burst_bytes * 8 // BITS[dtype])
        return Layout(org.bursts_per_row, lanes, int(self.params.global_buffer * 8 // BITS[dtype]), self.banks,
                      org.banks_per_group, self.params.pack_rows)

    def _plan(self, op) -> tuple[list[tuple[Stream, int]], int, int]:
        """(busiest channel's runs: (stream, times it runs back to back), one after another; active
        channels; partial sums the host adds)."""
        C = self.n_channels
        if op.kind == "attn_score" and self.params.keys_over_banks:
            return self._keys_over_banks_plan(op)
        if op.kind in ATTENTION_KINDS and self.params.attention_devices:
            C = self.params.channels * self.params.attention_devices
        if op.kind in GEMV_KINDS:
            layout = self._layout(op.compute_dtype)
            parts = self.params.separate_matrices.get(op.name, 1) if op.kind == "matmul" else 1
            registers = self.params.mac_registers if op.kind == "matmul" else 1
            if GEMV_KINDS[op.kind] == "n":
                units, n_ch, share = split_work(op.count, math.ceil(op.n / parts), C)
                k_ch = op.k
            elif op.kind == "attn_context" and self.params.values_by_kv_head and op.seqs:
                return self._values_per_sequence(op, C, layout)
            elif op.kind == "attn_context" and self.params.values_by_kv_head:
                units, C = self._values_by_kv_head(op, C)
                k_ch, share, n_ch = op.k, 1, op.n
            else:
                units, k_ch, share = split_work(op.count, op.k, C)
                n_ch = op.n
            stream = gemv_stream(layout, k_ch, math.ceil(n_ch / self.banks), registers=registers)
            chunks = math.ceil(k_ch / layout.gb_elements)
            splits = share if GEMV_KINDS[op.kind] == "k" else 1
            outputs = op.count * op.n * max(op.m, 1)
            return [(stream, units * max(op.m, 1) * parts)], min(C, op.count * share), outputs * (chunks * splits - 1)
        if op.kind in self.params.staging:
            layout = self._layout(op.compute_dtype)
            slots = self.params.channels * (self.params.attention_devices or self.params.devices) \
                * self.spec.org.bankgroups
            per_slot = math.ceil(op.act_out_bytes * 8 / BITS[op.compute_dtype] / slots)
            passes = self.params.staging[op.kind].ewmul_passes
            return [(ewmul_stream(layout, per_slot), passes)], slots // self.spec.org.bankgroups, 0
        if op.kind in ("kv_write", "embedding"):
            layout = self._layout_for_bytes()
            burst = self.spec.org.burst_bytes
            if op.kind == "kv_write":        # K row-major: whole bursts; V column-major: one burst per element
                v_elements = op.m * op.n // 2
                bursts = math.ceil(op.kv_write_bytes / 2 / burst) + v_elements
            else:
                bursts = math.ceil(op.weight_bytes / burst)
            per_channel = math.ceil(bursts / C)
            return [(bank_access_stream(layout, per_channel, op.kind == "kv_write"), 1)], min(C, bursts), 0
        raise ValueError(f"{self.name}: {op.kind} ops do not run on PIM; map vector ops to a host component")

    def _keys_over_banks_plan(self, op) -> tuple[list[tuple[Stream, int]], int, int]:
        """CENT's score GEMV: token t's key (all heads, one row per GB chunk) sits in bank t of all
        devices' banks; the query of every head is written to each GB chunk by chunk and each bank
        reads out one score per head (TransformerBlock.Vector_Matrix_Mul_score_pim_only_trace).
        With the op's sequences known, each group of equal shape runs at its own keys (pim_sequences)."""
        layout = self._layout(op.compute_dtype)
        banks = self.n_channels * self.banks
        active = min(self.n_channels, math.ceil(op.n / self.banks))
        if not op.seqs:
            return [(gemv_stream(layout, op.count * op.k, math.ceil(op.n / banks), segment=op.k), max(op.m, 1))], \
                active, 0
        heads = op.count // len(op.seqs)
        return [(gemv_stream(layout, sequences * heads * op.k, per_bank, segment=op.k), queries)
                for sequences, queries, per_bank in score_groups(op.seqs, banks)], active, 0

    def _values_per_sequence(self, op, channels: int, layout: Layout) -> tuple[list[tuple[Stream, int]], int, int]:
        """CENT's score x V GEMV (see _values_by_kv_head) with each sequence at its own keys: the
        busiest channel's heads run one after another (``pim_sequences.context_runs``)."""
        elements = op.kv_read_bytes * 8 / BITS[op.compute_dtype]
        keys = sum(k for _, k in op.seqs)
        kv_heads = round(elements / (keys * op.n))           # per sequence
        heads = op.count // len(op.seqs)
        if kv_heads < 1 or kv_heads > heads or kv_heads * keys * op.n != elements:
            raise ValueError(f"{self.name}: {op.name} reads {op.kv_read_bytes:g} B of V, not whole KV heads "
                             f"of {op.n} x the keys of its {len(op.seqs)} sequences")
        repeat = math.ceil(heads / kv_heads)
        runs, used = context_runs(op.seqs, kv_heads, channels)
        neurons = math.ceil(op.n / self.banks)
        partials = sum(heads * op.n * q * (math.ceil(k / layout.gb_elements) - 1) for q, k in op.seqs)
        return [(gemv_stream(layout, k, neurons), n * repeat * q) for n, q, k in runs], used, partials

    def _values_by_kv_head(self, op, channels: int) -> tuple[int, int]:
        """(GEMV passes per channel over all keys, channels holding V) of CENT's score x V
        GEMV (Llama.py trace_only with intra_device_attention; TransformerBlock
        Vector_Matrix_Mul_output_pim_only_trace): each KV head's V lies whole in one channel,
        ceil(kv heads / channels) per channel, and each of the heads / kv_heads query heads of its group
        streams it once with its own scores in the global buffer (n_repeat passes). Under GQA with
        fewer KV heads than channels the other channels hold no V. The op's KV heads (x batch) follow
        from its V bytes: keys x head_dim elements per KV head. An op that does not list its
        sequences (a trace file without ``seqs``) but reads V of unequal contexts streams it as the
        equivalent number of longest-context KV heads, rounded up, so the bytes streamed match the
        sum; ops that list them run each sequence at its own keys (_values_per_sequence)."""
        elements = op.kv_read_bytes * 8 / BITS[op.compute_dtype]
        kv_heads = math.ceil(elements / (op.k * op.n) - 1e-9)
        if kv_heads < 1 or kv_heads > op.count:
            raise ValueError(f"{self.name}: {op.name} reads {op.kv_read_bytes:g} B of V, not KV heads "
                             f"of at most {op.k} keys x {op.n} for {op.count} query heads")
        return math.ceil(kv_heads / channels) * math.ceil(op.count / kv_heads), min(channels, kv_heads)

    def _layout_for_bytes(self) -> Layout:
        org = self.spec.org
        return Layout(org.bursts_per_row, 1, 1, org.banks_per_rank, org.banks_per_group, self.params.pack_rows)

    # ---- timing --------------------------------------------------------------------------------------
    def submit(self, op, done):
        runs, active, partials = self._plan(op)
        tck = self.spec.tCK_ps
        start = max(self.sim.now, self._free_ps)
        link = self.params.link
        transfer = op.kind == "matmul" and self.params.devices > 1
        bcast_ps = math.ceil((link.latency + op.act_in_bytes / self.link_bandwidth) * 1e12) if transfer else 0
        gather_ps = math.ceil((link.latency + op.act_out_bytes / self.link_bandwidth) * 1e12) if transfer else 0
        first = math.ceil((start + bcast_ps) / tck)
        self._refresh_while_idle(first)
        done_cycle, commands, open_cycles, issued = self._run_all(runs, first)
        red = self.params.reduction
        reduce_ps = math.ceil(math.ceil(partials / self.reduction_lanes) / red.clock * 1e12) if partials else 0
        counts = commands * active
        staging_ps = 0
        if op.kind in self.params.staging:
            staging_ps, staged = self._staging(op)
            counts += staged
            accelerator = self.params.staging[op.kind].accelerator
            reduce_ps = accelerator.op_ps(op) if accelerator else \
                math.ceil(math.ceil(op.flops / self.reduction_lanes) / red.clock * 1e12)
        end = done_cycle * tck + staging_ps + reduce_ps + gather_ps + self._sampling_ps(op)
        self._idle_cycle = done_cycle + staging_ps // tck          # the host's staging bursts use the banks
        parts = self._op_energy_parts(counts, open_cycles * tck * active,
                                      (op.act_in_bytes * self.params.devices + op.act_out_bytes) * 8 if transfer else 0)
        for part, joules in parts.items():
            self._energy_tally[part] += joules
        energy = sum(parts.values())
        self._free_ps = end
        self._counts += counts
        self._simulated += issued
        self._busy_ps += end - start
        self._stream_ps += (done_cycle - first) * tck + staging_ps
        self._link_ps += bcast_ps + gather_ps
        self._reduce_ps += reduce_ps
        self._flops += op.flops
        self._bytes += op.weight_bytes + op.kv_read_bytes
        self.sim.schedule_at(end, done, op, Execution(start, end, f"{self.name}.bank_mac", energy))

    def _refresh_while_idle(self, first_cycle: int) -> None:
        """Issue the refreshes due while the channels idle before ``first_cycle``: the first when it
        is due or when the channels fall idle, owed ones back to back (nRFC apart), the rest at their
        due cycles; each one that completes before ``first_cycle`` moves the refresh phase on by
        nREFI. A refresh that would still run at ``first_cycle`` is left to the op's stream."""
        if not self.params.refresh:
            return
        due, n_refi, n_rfc = self._refresh_due, self.spec["nREFI"], self.spec["nRFC"]
        at = max(due, self._idle_cycle)
        fits = max(0, (first_cycle - at) // n_rfc)               # back-to-back REFs done by first_cycle
        # REF j (from 0) issues at at + j nRFC while that is after its due cycle due + j nREFI (owed)
        owed = 0 if at <= due else fits if n_refi <= n_rfc else -(-(at - due) // (n_refi - n_rfc))
        issued = min(owed, fits)
        due, at = due + issued * n_refi, at + issued * n_rfc
        if at <= due and due + n_rfc <= first_cycle:             # caught up: the rest issue when due
            due += ((first_cycle - n_rfc - due) // n_refi + 1) * n_refi
        self._refresh_due = due

    def _run_all(self, runs, first_cycle: int) -> tuple[int, np.ndarray, int, int]:
        """(done cycle, command counts, open-row cycles, commands issued one by one) of ``runs`` on
        one channel, each from the cycle the previous one is done, the refresh phase carried."""
        cycle, counts, open_cycles, issued = first_cycle, np.zeros(len(COMMANDS), np.int64), 0, 0
        for stream, times in runs:
            result, n = self._run(stream, times, cycle)
            self._refresh_due = result.next_refresh_due
            cycle, open_cycles, issued = result.done_cycle, open_cycles + result.open_cycles, issued + n
            counts += np.array([result.command_counts[c] for c in COMMANDS])
        return cycle, counts, open_cycles, issued

    def _run(self, stream: Stream, times: int, first_cycle: int):
        """(result, commands issued one by one) of ``stream`` run ``times`` times from ``first_cycle``,
        extrapolated (pim_repeat.py) with the stream's shared plan: its period is found once per
        process, and each refresh position's detour once, so later runs issue only a few commands."""
        due, refresh = self._refresh_due, self.params.refresh
        if times >= REPEAT_DIRECTLY_BELOW:
            result = simulate_repeated(self.spec, stream, times, refresh=refresh, start_cycle=first_cycle,
                                       refresh_due=due, plans=self._plans)
            return result, result.issued_commands
        stream = stream.repeat(times)
        result = simulate_commands(self.spec, stream.cmd, 0, stream.bankgroup, stream.bank, stream.row,
                                   refresh=refresh, start_cycle=first_cycle, refresh_due=due)
        return result, len(stream)

    def _staging(self, op) -> tuple[int, np.ndarray]:
        """(ps, command counts) of the host's single-burst writes and reads of a staged op's vector,
        one per DMA cycle."""
        staging = self.params.staging[op.kind]
        lanes = self.spec.org.burst_bytes * 8 // BITS[op.compute_dtype]
        bursts = math.ceil(op.act_out_bytes * 8 / BITS[op.compute_dtype] / lanes)
        counts = np.zeros(len(COMMANDS), np.int64)
        counts[COMMANDS.index("WR")] = staging.writes * bursts
        counts[COMMANDS.index("RD")] = staging.reads * bursts
        return (staging.writes + staging.reads) * bursts * self.spec.tCK_ps, counts

    def _sampling_ps(self, op) -> int:
        """The host samples the next token from the logits `lm_head` returns before the step ends
        (CENT utils.py InOut_latency: top-k sampling on the CPU, once per token). Attached here until
        the trace has its own sampling op."""
        return math.ceil(self.params.sampling * 1e12) if self.params.sampling and op.name == "lm_head" else 0

    def _op_energy_parts(self, counts, open_ps, link_bits) -> dict[str, float]:
        """Joules of an op: commands (refresh excluded), open-row standby above precharged standby, link."""
        e = self.spec.energy
        open_mw = e.get("background_active_mW", 0.0) - e.get("background_precharged_mW", 0.0)
        return {"command": float(counts @ self._command_pj) * 1e-12, "open_row": open_mw * 1e-3 * open_ps * 1e-12,
                "link": link_bits * self.params.link.energy_per_bit if link_bits else 0.0}

    def static_energy_breakdown_j(self, elapsed_s) -> dict[str, float]:
        """Every channel over ``elapsed_s``: precharged standby, and refresh at one REF per tREFI."""
        e, spec = self.spec.energy, self.spec
        refreshes = self.n_channels * elapsed_s / (spec["nREFI"] * spec.tCK_ps * 1e-12) if self.params.refresh else 0
        return {"precharged_standby": e.get("background_precharged_mW", 0.0) * 1e-3 * self.n_channels * elapsed_s,
                "refresh": refreshes * e.get("REF", 0.0) * 1e-12}

    def static_energy_j(self, elapsed_s):
        return sum(self.static_energy_breakdown_j(elapsed_s).values())

    # ---- reporting -----------------------------------------------------------------------------------
    @property
    def peak_mac_flops(self) -> float:
        """2 FLOPs x bf16 lanes x MAC banks x channels per nCCDAB (all-bank MAC issue rate)."""
        lanes = self.spec.org.burst_bytes // 2
        return 2 * lanes * self.banks * self.n_channels / (self.spec["nCCDAB"] * self.spec.tCK_ps * 1e-12)

    def memories(self):
        """The banks of every channel of every device hold weights, KV cache and activations:
        devices x channels x the preset's channel geometry (``Organization.channel_bytes``); built
        once (capacity accounting asks for every operator)."""
        return self._memories

    def resources(self):
        bandwidth = self.spec.org.burst_bytes * self.banks * self.n_channels / (self.spec["nCCDAB"] * self.spec.tCK_ps * 1e-12)
        return [Resource(f"{self.name}.bank_mac", "FLOP/s", self.peak_mac_flops, self._flops,
                         self._flops / self.peak_mac_flops),
                Resource(f"{self.name}.bank_bandwidth", "B/s", bandwidth, self._bytes, self._bytes / bandwidth)]

    def statistics(self):
        c = dict(zip(COMMANDS, self._counts.tolist()))
        macs = c["MAC_ABK"]
        return {"busy_s": self._busy_ps * 1e-12, "row_hit_rate": 1 - c["ACT_ABK"] / macs if macs else 0.0,
                "commands": float(self._counts.sum()), "simulated_commands": float(self._simulated),
                "stream_s": self._stream_ps * 1e-12, "link_s": self._link_ps * 1e-12,
                "reduction_s": self._reduce_ps * 1e-12,
                **{f"{k}_energy_j": v for k, v in self._energy_tally.items()},
                **{f"cmd_{k}": float(v) for k, v in c.items() if v}}
