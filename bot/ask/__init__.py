"""Follow-up questions answered from the stored history: retrieval, the answer writers, conversations."""
