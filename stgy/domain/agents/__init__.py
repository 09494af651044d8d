"""AI agents: accounts driven by a language model, and the post summaries they rank."""
