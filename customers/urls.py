from django.urls import path

from customers.views import staff, staff_auth, storefront

app_name = "customers"

urlpatterns = [
    path("account/", storefront.account, name="account"),
    path("account/login/", storefront.account_login, name="account-login"),
    path("account/logout/", storefront.account_logout, name="account-logout"),
    path("account/signup/", storefront.account_signup, name="account-signup"),
    path(
        "account/confirm/resend/", storefront.account_confirm_resend, name="account-confirm-resend"
    ),
    path("account/confirm/<str:token>/", storefront.account_confirm, name="account-confirm"),
    path("account/consent/", storefront.account_consent, name="account-consent"),
    path("account/addresses/", storefront.address_list, name="account-addresses"),
    path("account/addresses/new/", storefront.address_edit, name="account-address-new"),
    path("account/addresses/<int:pk>/", storefront.address_edit, name="account-address-edit"),
    path(
        "account/addresses/<int:pk>/delete/",
        storefront.address_remove,
        name="account-address-delete",
    ),
    path(
        "account/addresses/<int:pk>/default/",
        storefront.address_default,
        name="account-address-default",
    ),
    path(
        "account/password-reset/",
        storefront.account_password_reset,
        name="account-password-reset",
    ),
    path(
        "account/password-reset/sent/",
        storefront.account_password_reset_done,
        name="account-password-reset-done",
    ),
    path(
        "account/password-reset/<uidb64>/<token>/",
        storefront.account_password_reset_confirm,
        name="account-password-reset-confirm",
    ),
    path(
        "account/password-reset/complete/",
        storefront.account_password_reset_complete,
        name="account-password-reset-complete",
    ),
    path("dashboard/login/", staff_auth.staff_login, name="staff-login"),
    path("dashboard/login/verify/", staff_auth.staff_login_verify, name="staff-login-verify"),
    path("dashboard/logout/", staff_auth.staff_logout, name="staff-logout"),
    path(
        "dashboard/password-reset/",
        staff_auth.staff_password_reset,
        name="staff-password-reset",
    ),
    path(
        "dashboard/password-reset/sent/",
        staff_auth.staff_password_reset_done,
        name="staff-password-reset-done",
    ),
    path(
        "dashboard/password-reset/<uidb64>/<token>/",
        staff_auth.staff_password_reset_confirm,
        name="staff-password-reset-confirm",
    ),
    path(
        "dashboard/password-reset/complete/",
        staff_auth.staff_password_reset_complete,
        name="staff-password-reset-complete",
    ),
    path(
        "dashboard/account/password/",
        staff_auth.staff_password_change,
        name="staff-password-change",
    ),
    path("dashboard/account/security/", staff_auth.staff_security, name="staff-security"),
    path(
        "dashboard/account/security/authenticator/",
        staff_auth.staff_totp_setup,
        name="staff-totp-setup",
    ),
    path(
        "dashboard/account/security/authenticator/remove/",
        staff_auth.staff_totp_remove,
        name="staff-totp-remove",
    ),
    path(
        "dashboard/account/security/recovery-codes/",
        staff_auth.staff_recovery_codes,
        name="staff-recovery-codes",
    ),
    path("dashboard/customers/", staff.index, name="staff-index"),
    path("dashboard/customers/<int:pk>/", staff.detail, name="staff-detail"),
    path("dashboard/customers/<int:pk>/note/", staff.note, name="staff-note"),
    path("dashboard/customers/<int:pk>/tags/", staff.tag_add, name="staff-tag-add"),
    path(
        "dashboard/customers/<int:pk>/tags/<int:tag_pk>/remove/",
        staff.tag_remove,
        name="staff-tag-remove",
    ),
]
