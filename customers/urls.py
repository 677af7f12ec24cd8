from django.urls import path

from customers.views import staff, staff_auth, storefront

app_name = "customers"

urlpatterns = [
    path("account/", storefront.account, name="account"),
    path("account/login/", storefront.account_login, name="account-login"),
    path("account/logout/", storefront.account_logout, name="account-logout"),
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
]
