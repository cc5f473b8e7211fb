"""Paged KV cache (vLLM's PagedAttention block manager, serving.md section 4): the cache is
`capacity_blocks` blocks of `block_size` tokens; a sequence holding t tokens holds ceil(t /
block_size) blocks. Blocks are interchangeable, so the manager counts them per request; it
refuses to hand out more than it has and frees a request's blocks exactly once.

The capacity in tokens comes from the machine's capacity model (``hwsim.capacity``), never from
a second computation here. An optional host pool of `host_blocks` takes a preempted request's
blocks whole (swapping, vLLM V0's swap_space, serving.md section 6) until it is swapped back in.
"""
from __future__ import annotations

SWAP_SPACE = 4 * 2 ** 30    # host pool for swapped KV blocks: vLLM V0's swap_space default, 4 GiB (serving.md 6)
SWAP_LINK = "pcie4_x16"     # link preset swaps move over by default: the A100's host link, PCIe Gen4 x16
KV_LINK = "roce_400g"       # link preset a disaggregated request's KV crosses by default (between machines)


class BlockManager:
    """Block accounting with a watermark kept free for running sequences when admitting new ones
    (vLLM V0 keeps 1 % of the blocks, serving.md section 3)."""

    def __init__(self, capacity_tokens: int, block_size: int = 16, watermark: float = 0.01, host_blocks: int = 0):
        if block_size < 1:
            raise ValueError(f"block_size must be >= 1 token, got {block_size}")
        if not 0 <= watermark < 1:
            raise ValueError(f"watermark must be a fraction in [0, 1), got {watermark}")
        self.block_size = block_size
        self.capacity = capacity_tokens // block_size
        if self.capacity < 1:
            raise ValueError(f"KV capacity {capacity_tokens} tokens holds no block of {block_size} tokens")
        self.reserve = int(watermark * self.capacity)
        self.held: dict[int, int] = {}
        self.used = 0
        self.host_capacity = host_blocks
        self.swapped: dict[int, int] = {}           # request -> its blocks in the host pool

    def blocks(self, tokens: int) -> int:
        return -(-tokens // self.block_size)

    @property
    def free(self) -> int:
        return self.capacity - self.used

    def extra(self, request: int, tokens: int) -> int:
        """Blocks `request` still needs to hold `tokens` tokens."""
        return max(0, -(-tokens // self.block_size) - self.held.get(request, 0))

    def can_grow(self, request: int, tokens: int, admitting: bool = False) -> bool:
        """Whether `request` can hold `tokens` tokens (a new admission also leaves the watermark free)."""
        return self.extra(request, tokens) <= self.free - (self.reserve if admitting else 0)

    def grow(self, request: int, tokens: int) -> None:
        """Let `request` hold `tokens` tokens; raises if the blocks are not free (a scheduler bug)."""
        extra = self.extra(request, tokens)
        if extra > self.free:
            raise RuntimeError(f"request {request} needs {extra} more KV blocks, {self.free} free")
        self.held[request] = self.held.get(request, 0) + extra
        self.used += extra

    def release(self, request: int) -> None:
        """Free all blocks of `request` (finished or preempted)."""
        self.used -= self.held.pop(request)

    def can_swap_out(self, request: int) -> bool:
        """Whether the host pool has room for all of `request`'s blocks."""
        return self.held.get(request, 0) <= self.host_capacity - sum(self.swapped.values())

    def swap_out(self, request: int) -> int:
        """Move all blocks of `request` to the host pool; returns how many moved."""
        if not self.can_swap_out(request):
            raise RuntimeError(f"request {request}: the host pool has no room for its blocks")
        blocks = self.held.pop(request)
        self.used -= blocks
        self.swapped[request] = blocks
        return blocks

    def swap_in(self, request: int) -> int:
        """Move `request`'s blocks back from the host pool; returns how many moved."""
        blocks = self.swapped[request]
        if blocks > self.free:
            raise RuntimeError(f"request {request} needs {blocks} KV blocks to swap in, {self.free} free")
        del self.swapped[request]
        self.held[request] = blocks
        self.used += blocks
        return blocks
