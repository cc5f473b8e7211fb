"""Request-level serving above the one-step simulation: request streams, schedulers, a paged KV
cache, the serving loop and its metrics (DESIGN.md "Serving", issue 15)."""
