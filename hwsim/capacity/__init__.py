"""Memory capacity: where every byte of a run lives, whether it fits, and how much KV cache fits.

``footprint`` accounts a step's bytes per memory; ``check_fit`` raises ``CapacityError`` (one line,
with what would fit) unless the run allows overcommit; ``kv_capacity_tokens`` is the serving layer's
KV budget from the same accounting (and ``kv_bytes_per_token`` what one cached token takes).
"""
from hwsim.capacity.fit import CapacityError, check_fit, overflow_message, table
from hwsim.capacity.accounting import Footprint, Usage, footprint
from hwsim.capacity.kv import check_kv_budget, kv_bytes_per_token, kv_capacity_tokens

__all__ = ["CapacityError", "Footprint", "Usage", "check_fit", "check_kv_budget", "footprint", "kv_bytes_per_token", "kv_capacity_tokens",
           "overflow_message", "table"]
