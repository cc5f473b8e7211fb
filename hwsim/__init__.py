"""hwsim: cycle-level simulator of LLM and MoE inference hardware."""
