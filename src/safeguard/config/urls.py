"""URL routes: the API, the console, sign-in and the health check."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from safeguard.config.api import api
from safeguard.review import views as review_views

urlpatterns = [
    path("api/v1/", api.urls),
    path("healthz", review_views.healthz, name="healthz"),
    path("accounts/", include("safeguard.accounts.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("console/", include("safeguard.review.urls")),
    path("pages/", review_views.pages, name="pages"),
    path("pages/<uuid:page_id>/ack", review_views.page_ack, name="page-ack"),
    path("", review_views.home, name="home"),
]
