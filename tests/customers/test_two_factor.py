import pyotp
import pytest
from django.utils import timezone

from customers.models import RecoveryCode, TOTPDevice
from customers.services import (
    StaffError,
    second_factor_verify,
    totp_device_confirm,
    totp_device_start,
)
from tests.factories import StaffFactory
from tests.factories.users import PASSWORD

pytestmark = pytest.mark.django_db
SETUP = "/dashboard/account/security/authenticator/"


def current_code(device: TOTPDevice, offset_steps: int = 0) -> str:
    totp = pyotp.TOTP(device.secret)
    return totp.generate_otp(totp.timecode(timezone.now()) + offset_steps)


def enable_totp(user) -> tuple[TOTPDevice, list[str]]:
    device = totp_device_start(user=user)
    codes = totp_device_confirm(user=user, code=current_code(device, -1))
    device.refresh_from_db()
    return device, codes


def test_setup_page_shows_a_qr_code_and_the_key(client, roles, staff_login):
    user = StaffFactory(role="Manager")
    staff_login(user)
    response = client.get(SETUP)
    assert response.status_code == 200
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed_at is None
    assert device.secret in response.text
    assert 'src="data:image/svg+xml' in response.text
    # Reloading keeps the secret the phone may already have scanned.
    client.get(SETUP)
    assert TOTPDevice.objects.get(user=user).secret == device.secret


def test_confirming_with_a_code_turns_it_on_and_shows_recovery_codes(client, roles, staff_login):
    user = StaffFactory(role="Manager")
    staff_login(user)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=user)
    response = client.post(SETUP, {"code": current_code(device)})
    assert response.status_code == 200
    assert "Save your recovery codes" in response.text
    assert RecoveryCode.objects.filter(user=user).count() == 10
    user.refresh_from_db()
    assert user.has_totp


def test_a_wrong_code_leaves_it_off_with_a_clear_error(client, roles, staff_login):
    user = StaffFactory(role="Manager")
    staff_login(user)
    client.get(SETUP)
    response = client.post(SETUP, {"code": "000000"})
    assert "That code does not match" in response.text
    assert TOTPDevice.objects.get(user=user).confirmed_at is None
    assert not RecoveryCode.objects.filter(user=user).exists()


def test_sign_in_with_totp_asks_for_the_code(client, roles):
    user = StaffFactory(role="Manager")
    device, _ = enable_totp(user)
    response = client.post("/dashboard/login/", {"email": user.email, "password": PASSWORD})
    assert response["Location"] == "/dashboard/login/verify/"
    assert client.get("/dashboard/").status_code == 302  # not in yet
    response = client.post("/dashboard/login/verify/", {"code": "123456"})
    assert "That code is not valid. Check it and try again." in response.text
    response = client.post("/dashboard/login/verify/", {"code": current_code(device, 1)})
    assert response["Location"] == "/dashboard/"
    assert client.get("/dashboard/").status_code == 200


def test_a_code_is_accepted_only_once(roles):
    user = StaffFactory(role="Manager")
    device, _ = enable_totp(user)
    code = current_code(device)
    assert second_factor_verify(user=user, code=code)
    assert not second_factor_verify(user=user, code=code)


def test_a_recovery_code_works_once(roles):
    user = StaffFactory(role="Manager")
    _, codes = enable_totp(user)
    assert second_factor_verify(user=user, code=codes[0].upper())
    assert not second_factor_verify(user=user, code=codes[0])
    assert second_factor_verify(user=user, code=codes[1].replace("-", ""))


def test_codes_are_stored_hashed(roles):
    user = StaffFactory(role="Manager")
    _, codes = enable_totp(user)
    stored = set(RecoveryCode.objects.values_list("code_hash", flat=True))
    assert not stored & set(codes)


def test_five_wrong_codes_end_the_pending_sign_in(client, roles):
    user = StaffFactory(role="Manager")
    enable_totp(user)
    client.post("/dashboard/login/", {"email": user.email, "password": PASSWORD})
    for _ in range(4):
        assert client.post("/dashboard/login/verify/", {"code": "000000"}).status_code == 200
    response = client.post("/dashboard/login/verify/", {"code": "000000"})
    assert response["Location"] == "/dashboard/login/"
    assert client.get("/dashboard/login/verify/")["Location"] == "/dashboard/login/"


def test_re_entering_the_password_buys_no_fresh_code_guesses(client, roles, settings):
    """The code counter is per account and the password step never clears it."""
    user = StaffFactory(role="Manager")
    device, _ = enable_totp(user)
    guesses = 0
    while guesses < settings.LOGIN_FAILURE_LIMIT:
        client.post("/dashboard/login/", {"email": user.email, "password": PASSWORD})
        for _ in range(3):
            client.post("/dashboard/login/verify/", {"code": "000000"})
            guesses += 1
    client.post("/dashboard/login/", {"email": user.email, "password": PASSWORD})
    response = client.post("/dashboard/login/verify/", {"code": current_code(device)})
    assert "Too many failed attempts" in response.text
    assert client.get("/dashboard/").status_code == 302


def test_the_verify_step_expires(client, roles, monkeypatch):
    import customers.views.staff_auth as views

    user = StaffFactory(role="Manager")
    device, _ = enable_totp(user)
    client.post("/dashboard/login/", {"email": user.email, "password": PASSWORD})
    later = views.time.time() + views.PENDING_SECONDS + 1
    monkeypatch.setattr(views.time, "time", lambda: later)
    response = client.post("/dashboard/login/verify/", {"code": current_code(device)})
    assert response["Location"] == "/dashboard/login/"


def test_verify_without_a_password_step_goes_back_to_sign_in(client):
    assert client.get("/dashboard/login/verify/")["Location"] == "/dashboard/login/"


def test_mandatory_two_factor_sends_owners_to_setup(client, roles, staff_login, settings):
    settings.STAFF_2FA_REQUIRED = True
    owner = StaffFactory(role="Owner")
    staff_login(owner)
    response = client.get("/dashboard/")
    assert response["Location"] == SETUP
    assert client.get(SETUP).status_code == 200
    # Roles outside the setting are not forced.
    client.logout()
    staff_login(StaffFactory(role="Warehouse"))
    assert client.get("/dashboard/").status_code == 200


def test_mandatory_two_factor_cannot_be_turned_off(client, roles, staff_login, settings):
    settings.STAFF_2FA_REQUIRED = True
    owner = StaffFactory(role="Owner")
    enable_totp(owner)
    staff_login(owner)
    response = client.post(
        "/dashboard/account/security/authenticator/remove/", {"password": PASSWORD}, follow=True
    )
    assert "cannot be turned off" in response.text
    owner.refresh_from_db()
    assert owner.has_totp


def test_turning_off_needs_the_password(client, roles, staff_login):
    user = StaffFactory(role="Marketing")
    enable_totp(user)
    staff_login(user)
    url = "/dashboard/account/security/authenticator/remove/"
    response = client.post(url, {"password": "wrong-password"})
    assert response.status_code == 400
    assert "That is not your current password." in response.text
    assert TOTPDevice.objects.filter(user=user).exists()
    client.post(url, {"password": PASSWORD})
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not RecoveryCode.objects.filter(user=user).exists()


def test_new_recovery_codes_replace_the_old(client, roles, staff_login):
    user = StaffFactory(role="Marketing")
    _, old_codes = enable_totp(user)
    staff_login(user)
    response = client.post("/dashboard/account/security/recovery-codes/", {"password": PASSWORD})
    assert "Save your recovery codes" in response.text
    assert not second_factor_verify(user=user, code=old_codes[0])


def test_confirming_twice_is_refused(roles):
    user = StaffFactory(role="Manager")
    device, _ = enable_totp(user)
    with pytest.raises(StaffError, match="already on"):
        totp_device_confirm(user=user, code=current_code(device, 1))
    with pytest.raises(StaffError, match="already on"):
        totp_device_start(user=user)
