"""Actions in the world: signed webhooks now; the platform adapter builds on them."""
