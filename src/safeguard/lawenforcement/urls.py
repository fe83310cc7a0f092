"""Routes of the law-enforcement portal, under /le/: partners' pages first, then legal staff's."""

from __future__ import annotations

from django.urls import path

from safeguard.lawenforcement import views

urlpatterns = [
    path("", views.home, name="le-home"),
    path("new", views.submit, name="le-new"),
    path("requests/<uuid:request_id>", views.partner_request, name="le-request"),
    path(
        "requests/<uuid:request_id>/documents",
        views.partner_document_add,
        name="le-request-document",
    ),
    path("download", views.download, name="le-download"),
    path("download/<str:token>", views.download, name="le-download-link"),
    path("staff/", views.staff_queue, name="le-staff-queue"),
    path("staff/requests/<uuid:request_id>", views.staff_request, name="le-staff-request"),
    path(
        "staff/requests/<uuid:request_id>/classify",
        views.staff_classify,
        name="le-staff-classify",
    ),
    path(
        "staff/requests/<uuid:request_id>/transition",
        views.staff_transition,
        name="le-staff-transition",
    ),
    path(
        "staff/requests/<uuid:request_id>/determination",
        views.staff_determine,
        name="le-staff-determine",
    ),
    path("staff/requests/<uuid:request_id>/extend", views.staff_extend, name="le-staff-extend"),
    path(
        "staff/requests/<uuid:request_id>/disclosures",
        views.staff_prepare,
        name="le-staff-prepare",
    ),
    path(
        "staff/requests/<uuid:request_id>/disclosures/<uuid:disclosure_id>/approve",
        views.staff_approve,
        name="le-staff-approve",
    ),
    path(
        "staff/requests/<uuid:request_id>/disclosures/<uuid:disclosure_id>/release",
        views.staff_release,
        name="le-staff-release",
    ),
    path(
        "staff/requests/<uuid:request_id>/documents/<uuid:document_id>",
        views.staff_document,
        name="le-staff-document",
    ),
    path("staff/agencies", views.agencies, name="le-staff-agencies"),
    path(
        "staff/agencies/<uuid:agency_id>/partners",
        views.agency_partner_attach,
        name="le-staff-partner-attach",
    ),
    path(
        "staff/agencies/<uuid:agency_id>/verifications",
        views.agency_verify,
        name="le-staff-verify",
    ),
]
