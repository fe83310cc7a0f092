"""URL routes: the API, the console, sign-in and the health check."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from safeguard.config import views as config_views
from safeguard.config.api import api
from safeguard.review import views as review_views
from safeguard.rota import views as rota_views

urlpatterns = [
    path("api/v1/", api.urls),
    path("healthz", config_views.healthz, name="healthz"),
    path("accounts/", include("safeguard.accounts.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("console/", include("safeguard.review.urls")),
    path("pages/", rota_views.pages, name="pages"),
    path("pages/<uuid:page_id>/ack", rota_views.page_ack, name="page-ack"),
    path("", review_views.home, name="home"),
]
