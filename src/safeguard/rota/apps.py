from django.apps import AppConfig


class RotaConfig(AppConfig):
    name = "safeguard.rota"
    label = "rota"
    verbose_name = "Rota and paging"
