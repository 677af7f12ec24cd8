from django.urls import path

from fulfillment.views import staff, staff_carriers, staff_returns, storefront, webhooks

app_name = "fulfillment"

urlpatterns = [
    # --- Storefront: return requests and their status ----------------------------------------
    path(
        "account/orders/<str:number>/return/",
        storefront.account_return_create,
        name="account-return-create",
    ),
    path("account/returns/<int:pk>/", storefront.account_return, name="account-return"),
    path("order/<str:token>/return/", storefront.status_return_create, name="status-return-create"),
    path("order/<str:token>/returns/<int:pk>/", storefront.status_return, name="status-return"),
    # --- Carriers' tracking webhook ---------------------------------------------------------
    path(
        "fulfillment/tracking/<slug:carrier_code>/",
        webhooks.tracking_webhook,
        name="tracking-webhook",
    ),
    # --- Staff dashboard --------------------------------------------------------------------
    path("dashboard/fulfillment/", staff.index, name="staff-index"),
    path("dashboard/fulfillment/queue/<slug:code>/", staff.queue, name="staff-queue"),
    path("dashboard/fulfillment/queue/<slug:code>/pick/", staff.pick, name="staff-pick-list"),
    path(
        "dashboard/fulfillment/queue/<slug:code>/orders/<str:number>/pack/",
        staff.pack,
        name="staff-pack",
    ),
    path(
        "dashboard/fulfillment/queue/<slug:code>/orders/<str:number>/slip/",
        staff.packing_slip,
        name="staff-packing-slip",
    ),
    path("dashboard/fulfillment/shipments/", staff.shipments, name="staff-shipments"),
    path("dashboard/fulfillment/shipments/<int:pk>/", staff.shipment_detail, name="staff-shipment"),
    path("dashboard/fulfillment/shipments/<int:pk>/ship/", staff.ship, name="staff-ship"),
    path(
        "dashboard/fulfillment/shipments/<int:pk>/status/",
        staff.shipment_status,
        name="staff-shipment-status",
    ),
    path("dashboard/fulfillment/carriers/", staff.carriers, name="staff-carriers"),
    path(
        "dashboard/fulfillment/carriers/new/", staff_carriers.carrier_new, name="staff-carrier-new"
    ),
    path(
        "dashboard/fulfillment/carriers/<int:pk>/",
        staff_carriers.carrier_edit,
        name="staff-carrier",
    ),
    path(
        "dashboard/fulfillment/carriers/<int:pk>/active/",
        staff_carriers.carrier_active,
        name="staff-carrier-active",
    ),
    path(
        "dashboard/fulfillment/carriers/<int:pk>/services/new/",
        staff_carriers.service_new,
        name="staff-service-new",
    ),
    path(
        "dashboard/fulfillment/services/<int:pk>/",
        staff_carriers.service_edit,
        name="staff-service",
    ),
    path(
        "dashboard/fulfillment/services/<int:pk>/active/",
        staff_carriers.service_active,
        name="staff-service-active",
    ),
    path("dashboard/fulfillment/returns/", staff_returns.returns, name="staff-returns"),
    path(
        "dashboard/fulfillment/returns/<int:pk>/",
        staff_returns.return_detail,
        name="staff-return",
    ),
    path(
        "dashboard/fulfillment/returns/<int:pk>/decide/",
        staff_returns.return_decision,
        name="staff-return-decide",
    ),
    path(
        "dashboard/fulfillment/returns/<int:pk>/receive/",
        staff_returns.return_receiving,
        name="staff-return-receive",
    ),
    path(
        "dashboard/fulfillment/returns/<int:pk>/settle/",
        staff_returns.return_settle,
        name="staff-return-settle",
    ),
    path(
        "dashboard/fulfillment/reports/delivery/",
        staff.report_delivery,
        name="staff-report-delivery",
    ),
    path(
        "dashboard/fulfillment/reports/returns/",
        staff_returns.report_returns,
        name="staff-report-returns",
    ),
]
