"""NAND flash: organisation and page-read timing, in-flash compute (Cambricon-LLM), outlier ECC."""
