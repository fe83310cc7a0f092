from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "safeguard.matching"
    label = "matching"
    verbose_name = "Matching"

    def ready(self) -> None:
        from safeguard.evidence.hooks import media_stored
        from safeguard.matching.tasks import scan_stored_media

        media_stored.subscribe(scan_stored_media)
