"""Bit-exact data path of one PIM bank group (AiM-like, integer): what each command does to the data.

The timing model (pim_kernel) says *when* commands issue; this says *what* they compute, so the RTL
(rtl_models/dram_bank_group) can be checked value for value. Integer arithmetic keeps it exactly
reproducible: 16-bit signed data words, ``lanes`` words per column (one burst), a global buffer (GB)
of one burst per column, and one 32-bit wrapping MAC accumulator per bank.

    ACT b,row / ACT_ABK row   copy the row into the bank's row buffer (every bank for ACT_ABK)
    PRE b / PREA              write the row buffer back to the array and close the bank(s)
    RD b,col                  return the row buffer's column
    WR b,col,data             write the column in the row buffer
    WR_GB col,data            write the GB column
    MAC_ABK col / MAC_SBK b   acc[b] += sum over lanes of rowbuf[b][col] * GB[col] (every bank / one)
    RD_MAC                    return every bank's accumulator and clear them (next output row)
    AF                        ReLU on every accumulator (AiM's activation function, integer form)
    EWMUL col                 rowbuf[b][col] *= GB[col] element-wise in every bank (low 16 bits kept)
    REF                       no data effect
"""

from __future__ import annotations

import numpy as np


def wrap(x, bits: int):
    """Two's-complement wrap of an integer (array) to ``bits`` bits."""
    half = 1 << (bits - 1)
    return (np.asarray(x, dtype=np.int64) + half) % (1 << bits) - half


class PimBankGroupData:
    """Array contents, row buffers, GB and accumulators of ``banks`` banks; no timing, no legality
    checks (the timing model rejects illegal commands before they reach the data path)."""

    DATA_BITS, ACC_BITS = 16, 32

    def __init__(self, banks: int, rows: int, cols: int, lanes: int, memory=None):
        shape = (banks, rows, cols, lanes)
        self.memory = np.zeros(shape, np.int64) if memory is None else wrap(memory, self.DATA_BITS).reshape(shape)
        self.row_buffer = np.zeros((banks, cols, lanes), np.int64)
        self.open_row = np.full(banks, -1)
        self.gb = np.zeros((cols, lanes), np.int64)
        self.acc = np.zeros(banks, np.int64)

    def apply(self, command: str, bank: int = 0, row: int = 0, col: int = 0, data=None):
        """Execute one command; returns the data a read command puts on the pins, else None."""
        banks = range(self.acc.size)
        if command in ("ACT", "ACT_ABK"):
            for b in ([bank] if command == "ACT" else banks):
                self.row_buffer[b] = self.memory[b, row]
                self.open_row[b] = row
        elif command in ("PRE", "PREA"):
            for b in ([bank] if command == "PRE" else banks):
                if self.open_row[b] >= 0:
                    self.memory[b, self.open_row[b]] = self.row_buffer[b]
                self.open_row[b] = -1
        elif command == "RD":
            return self.row_buffer[bank, col].copy()
        elif command == "WR":
            self.row_buffer[bank, col] = wrap(data, self.DATA_BITS)
        elif command == "WR_GB":
            self.gb[col] = wrap(data, self.DATA_BITS)
        elif command in ("MAC_ABK", "MAC_SBK"):
            for b in (banks if command == "MAC_ABK" else [bank]):
                self.acc[b] = wrap(self.acc[b] + self.row_buffer[b, col] @ self.gb[col], self.ACC_BITS)
        elif command == "RD_MAC":
            out, self.acc = self.acc, np.zeros_like(self.acc)
            return out
        elif command == "AF":
            self.acc = np.maximum(self.acc, 0)
        elif command == "EWMUL":
            self.row_buffer[:, col] = wrap(self.row_buffer[:, col] * self.gb[col], self.DATA_BITS)
        elif command != "REF":
            raise ValueError(f"{command} has no data path in a PIM bank group")
        return None
