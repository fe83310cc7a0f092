"""Settings, URLs, WSGI/ASGI entry points and the `safeguard` command line."""
