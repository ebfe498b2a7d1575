"""The outbox relay: outbox rows to Temporal (claim, hand-off, LISTEN wake-ups)."""
