"""NPU tile models: systolic array (cycle model, functional model, fold schedule)."""
