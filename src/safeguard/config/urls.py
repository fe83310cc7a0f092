"""URL routes: the API, the console, sign-in and the health check."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from safeguard.config import views as config_views
from safeguard.config.api import api
from safeguard.evidence import views as evidence_views
from safeguard.review import views as review_views
from safeguard.rota import views as rota_views

urlpatterns = [
    path("api/v1/", api.urls),
    path("healthz", config_views.healthz, name="healthz"),
    path("accounts/", include("safeguard.accounts.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("console/", include("safeguard.review.urls")),
    path("le/", include("safeguard.lawenforcement.urls")),
    path("pages/", rota_views.pages, name="pages"),
    path("pages/<uuid:page_id>/ack", rota_views.page_ack, name="page-ack"),
    path("holds/", evidence_views.holds_page, name="holds"),
    path("holds/place", evidence_views.hold_place_view, name="hold-place"),
    path("holds/<uuid:hold_id>/extend", evidence_views.hold_extend_view, name="hold-extend"),
    path("holds/<uuid:hold_id>/release", evidence_views.hold_release_view, name="hold-release"),
    path("holds/delete", evidence_views.content_delete_view, name="hold-content-delete"),
    path("holds/destructions", evidence_views.destruction_request_view, name="destruction-request"),
    path(
        "holds/destructions/<uuid:destruction_id>/approve",
        evidence_views.destruction_approve_view,
        name="destruction-approve",
    ),
    path("", review_views.home, name="home"),
]
