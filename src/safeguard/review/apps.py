from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "safeguard.review"
    label = "review"
    verbose_name = "Review console"
