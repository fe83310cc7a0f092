from django.apps import AppConfig


class ActionsConfig(AppConfig):
    name = "safeguard.actions"
    label = "actions"
    verbose_name = "Actions"
