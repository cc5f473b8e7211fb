"""hwsim's on-chip network against BookSim2 on an 8x8 mesh: hop counts and mean packet latency.

Both sides simulate the same network and traffic (BookSim2 config keys on the right):
  8x8 mesh (topology = mesh; k = 8; n = 2), dimension-order routing (routing_function = dor),
  4 VCs x 8 flits (num_vcs = 4; vc_buf_size = 8; wait_for_tail_credit = 1),
  separable input-first allocators, one iteration (vc_allocator = sw_allocator = separable_input_first;
  alloc_iters = 1), routing_delay = vc_alloc_delay = sw_alloc_delay = 1, crossbar and channel latency 1,
  credit_delay = 2 (hwsim's credit_delay = 2 + 1 + 1 = 4, see router.py), no speedup
  (input_speedup = output_speedup = 1), 4-flit packets, Bernoulli injection in packets/cycle/node,
  10,000 warm-up cycles then 10,000 measured cycles (sample_period = 10000; warmup_periods = 1;
  max_samples = 1). Latency is creation to tail ejection (BookSim2's "Packet latency average"),
  hops are routers passed (BookSim2's "Hops average").

    python benchmarks/noc.py [--booksim PATH]      # PATH or $BOOKSIM; default /tmp/booksim2/src/booksim

transpose at 0.035 and uniform at 0.07 packets/cycle/node lie within about 10% of saturation
(BookSim2 saturates near 0.038 and 0.085), where one seed differs from the next by about +-10%.

BookSim2 is not part of hwsim: build it yourself (github.com/booksim/booksim2, `make` in src/,
needs flex and bison). Without it, this prints hwsim's side only.
"""
import argparse
import os
import re
import subprocess
import tempfile
from pathlib import Path

from hwsim.components.interconnect.noc import RouterSpec, bernoulli_packets, mesh, simulate_noc

POINTS = [("transpose", 0.005), ("transpose", 0.02), ("transpose", 0.03), ("transpose", 0.035),
          ("uniform", 0.005), ("uniform", 0.02), ("uniform", 0.04), ("uniform", 0.06), ("uniform", 0.07)]
FLITS, WARMUP, MEASURE = 4, 10_000, 10_000

BOOKSIM_CONFIG = """topology = mesh; k = 8; n = 2; routing_function = dor;
num_vcs = 4; vc_buf_size = 8; wait_for_tail_credit = 1;
vc_allocator = separable_input_first; sw_allocator = separable_input_first; alloc_iters = 1;
credit_delay = 2; routing_delay = 1; vc_alloc_delay = 1; sw_alloc_delay = 1;
input_speedup = 1; output_speedup = 1; internal_speedup = 1.0;
traffic = {pattern}; packet_size = {flits}; injection_rate = {rate};
sim_type = latency; sample_period = {measure}; warmup_periods = 1; max_samples = 1;
"""


def hwsim_point(pattern, rate, seed=1):
    topology = mesh(8)
    packets = bernoulli_packets(64, WARMUP + MEASURE, rate, FLITS, pattern, seed=seed)
    result = simulate_noc(topology, RouterSpec(), packets)
    measured = result.window(WARMUP, WARMUP + MEASURE)
    assert (result.routers_passed == topology.routers_on_path(packets.src, packets.dst)).all()
    return result.routers_passed[measured].mean(), result.latency[measured].mean()


def booksim_point(binary, pattern, rate):
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "mesh88.cfg"
        config.write_text(BOOKSIM_CONFIG.format(pattern=pattern, flits=FLITS, rate=rate, measure=MEASURE))
        # BookSim2 exits with 255 when its convergence check did not pass within max_samples; the
        # statistics it printed for the sample are still the ones wanted here.
        out = subprocess.run([binary, str(config)], capture_output=True, text=True).stdout
    if "Overall Traffic Statistics" not in out:
        raise RuntimeError(f"BookSim2 printed no statistics for {pattern} at {rate}:\n{out[-2000:]}")
    overall = out[out.index("Overall Traffic Statistics"):]
    latency = float(re.search(r"Packet latency average = ([\d.]+)", overall).group(1))
    hops = float(re.search(r"Hops average = ([\d.]+)", overall).group(1))
    return hops, latency


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--booksim", default=os.environ.get("BOOKSIM", "/tmp/booksim2/src/booksim"))
    binary = parser.parse_args().booksim
    have_booksim = Path(binary).is_file() and os.access(binary, os.X_OK)
    if not have_booksim:
        print(f"BookSim2 not found at {binary}: printing hwsim's side only.")
    print("8x8 mesh, DOR, 4 VCs x 8 flits, 4-flit packets; latency in cycles; expected mean hops 6.25")
    header = ("traffic", "rate", "hops hwsim", "hops BS2", "lat hwsim", "lat BS2", "diff")
    print("{:<10} {:>6} {:>10} {:>9} {:>10} {:>8} {:>7}".format(*header))
    for pattern, rate in POINTS:
        hops, latency = hwsim_point(pattern, rate)
        row = f"{pattern:<10} {rate:>6} {hops:>10.3f}"
        if have_booksim:
            bs_hops, bs_latency = booksim_point(binary, pattern, rate)
            row += f" {bs_hops:>9.3f} {latency:>10.2f} {bs_latency:>8.2f} {100 * (latency / bs_latency - 1):>+6.1f}%"
        else:
            row += f" {'-':>9} {latency:>10.2f} {'-':>8} {'-':>7}"
        print(row)


if __name__ == "__main__":
    main()
