"""Console routes."""

from django.urls import path

from safeguard.review import bulk_views, le_views, live, playbook_views, search_views, views

urlpatterns = [
    path("queues/", views.queues, name="console-queues"),
    path("queues/<slug:name>/start", views.queue_start, name="console-queue-start"),
    path("cases/<uuid:case_id>/", views.case_page, name="console-case"),
    path("cases/<uuid:case_id>/reveal/<uuid:content_id>", views.reveal, name="console-reveal"),
    path("cases/<uuid:case_id>/claim", views.case_claim_view, name="console-claim"),
    path("cases/<uuid:case_id>/decide", views.decide, name="console-decide"),
    path("cases/<uuid:case_id>/escalate", views.escalate, name="console-escalate"),
    path("cases/<uuid:case_id>/notes", views.note_add, name="console-note"),
    path("cases/<uuid:case_id>/referrals", le_views.referral_send_view, name="console-referral"),
    path(
        "cases/<uuid:case_id>/referrals/<uuid:referral_id>/acknowledgement",
        le_views.referral_ack_view,
        name="console-referral-ack",
    ),
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
    path("search/", search_views.search, name="console-search"),
    path("cases/bulk/", bulk_views.bulk, name="console-bulk"),
    # `n` and "Start reviewing" with no queue chosen: the most urgent case in any queue.
    path("queues/next", views.queue_next, name="console-next"),
    # Live regions (review.live): polled by htmx, each answers 204 when nothing changed.
    path("live/banner", live.live_banner, name="console-live-banner"),
    path("live/queues", live.queues_live, name="console-queues-live"),
    path("live/cases/<uuid:case_id>", live.case_live, name="console-case-live"),
    # A case's playbook (review/_playbook.html): tick a step with a note, close the case.
    path(
        "cases/<uuid:case_id>/playbook/<slug:step_id>/tick",
        playbook_views.playbook_tick_view,
        name="console-playbook-tick",
    ),
    path("cases/<uuid:case_id>/close", playbook_views.case_close_view, name="console-close"),
]
