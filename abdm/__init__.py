"""The one place the portal talks to ABDM: client, outbox, callbacks (docs/ARCHITECTURE.md)."""
