"""Console routes."""

from django.urls import path

from safeguard.review import views

urlpatterns = [
    path("queues/", views.queues, name="console-queues"),
    path("queues/<slug:name>/start", views.queue_start, name="console-queue-start"),
    path("cases/<uuid:case_id>/", views.case_page, name="console-case"),
    path("cases/<uuid:case_id>/reveal/<uuid:content_id>", views.reveal, name="console-reveal"),
    path("cases/<uuid:case_id>/decide", views.decide, name="console-decide"),
    path("cases/<uuid:case_id>/escalate", views.escalate, name="console-escalate"),
    path("cases/<uuid:case_id>/notes", views.note_add, name="console-note"),
    path(
        "cases/<uuid:case_id>/actions/<uuid:action_id>/reverse",
        views.action_reverse_view,
        name="console-reverse",
    ),
    path("wellbeing/", views.wellbeing, name="console-wellbeing"),
    path("step-away", views.step_away_view, name="console-step-away"),
    path("view-settings", views.view_settings, name="console-view-settings"),
    path(
        "media/<uuid:case_id>/<uuid:content_id>/<str:variant>",
        views.media,
        name="console-media",
    ),
]
