from django.urls import path

from inventory.views import api, staff

app_name = "inventory"

urlpatterns = [
    path("api/stock/", api.stock_feed, name="api-stock"),
    path("dashboard/inventory/", staff.index, name="staff-index"),
    path("dashboard/inventory/channels/", staff.channels, name="staff-channels"),
    path("dashboard/inventory/stock/", staff.stock_list, name="staff-stock"),
    path("dashboard/inventory/stock/import/", staff.stock_import, name="staff-stock-import"),
    path("dashboard/inventory/stock/bulk/", staff.stock_bulk, name="staff-stock-bulk"),
    path("dashboard/inventory/stock/export.csv", staff.stock_export, name="staff-stock-export"),
    path(
        "dashboard/inventory/variants/<int:variant_pk>/", staff.variant_stock, name="staff-variant"
    ),
    path("dashboard/inventory/alerts/", staff.alerts, name="staff-alerts"),
    path("dashboard/inventory/alerts/reorder/", staff.reorder, name="staff-reorder"),
    path("dashboard/inventory/counts/", staff.counts, name="staff-counts"),
    path("dashboard/inventory/counts/<int:pk>/", staff.count_detail, name="staff-count"),
    path("dashboard/inventory/counts/<int:pk>/scan/", staff.count_scan, name="staff-count-scan"),
    path(
        "dashboard/inventory/counts/<int:pk>/approve/",
        staff.count_approve,
        name="staff-count-approve",
    ),
    path("dashboard/inventory/suppliers/", staff.suppliers, name="staff-suppliers"),
    path("dashboard/inventory/suppliers/new/", staff.supplier_edit, name="staff-supplier-new"),
    path("dashboard/inventory/suppliers/<int:pk>/", staff.supplier_edit, name="staff-supplier"),
    path(
        "dashboard/inventory/suppliers/<int:pk>/items/<int:item_pk>/delete/",
        staff.supplier_item_delete,
        name="staff-supplier-item-delete",
    ),
    path(
        "dashboard/inventory/purchase-orders/", staff.purchase_orders, name="staff-purchase-orders"
    ),
    path(
        "dashboard/inventory/purchase-orders/<int:pk>/",
        staff.purchase_order_detail,
        name="staff-purchase-order",
    ),
    path(
        "dashboard/inventory/purchase-orders/<int:pk>/action/",
        staff.purchase_order_action,
        name="staff-purchase-order-action",
    ),
]
