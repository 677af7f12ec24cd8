import pytest
from django.core.management import CommandError, call_command

from customers.models import User
from tests.factories import ShopperFactory

pytestmark = pytest.mark.django_db


def test_createstaff_prints_a_one_time_password_that_must_be_changed(roles, capsys):
    call_command("createstaff", "New.Person@Example.com", "--role", "Support", "--name", "Jo Ng")
    out = capsys.readouterr().out
    password = out.split("One-time password: ")[1].split()[0]
    user = User.objects.get(email="new.person@example.com")
    assert user.is_staff
    assert user.password_change_required
    assert user.full_name == "Jo Ng"
    assert user.check_password(password)
    assert len(password) >= 12
    assert user.role_names == ["Support"]


def test_createstaff_reset_link_lets_the_new_member_choose_a_password(
    roles, capsys, settings, client
):
    call_command("createstaff", "linked@example.com", "--role", "Warehouse", "--reset-link")
    out = capsys.readouterr().out
    assert "One-time password" not in out
    user = User.objects.get(email="linked@example.com")
    assert not user.has_usable_password()
    link = out.split("hours: ")[1].split()[0]
    assert link.startswith(f"{settings.SITE_URL}/dashboard/password-reset/")
    form_page = client.get(link.removeprefix(settings.SITE_URL), follow=True)
    new = "warehouse-passphrase-1"
    client.post(form_page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    user.refresh_from_db()
    assert user.check_password(new)


def test_createstaff_trims_the_email(roles):
    call_command("createstaff", "  Spaced@Example.com ", "--role", "Support")
    assert User.objects.filter(email="spaced@example.com").exists()


def test_createsuperuser_points_to_createstaff():
    with pytest.raises(CommandError, match="createstaff EMAIL --role Owner"):
        call_command("createsuperuser", "--noinput", "--email", "root@example.com")
    assert not User.objects.exists()


def test_createstaff_refuses_a_taken_email_and_changes_nothing(roles):
    ShopperFactory(email="taken@example.net")
    with pytest.raises(CommandError, match="already exists"):
        call_command("createstaff", "TAKEN@example.net", "--role", "Owner")
    assert not User.objects.get(email="taken@example.net").is_staff


def test_createstaff_refuses_a_bad_email(roles):
    with pytest.raises(CommandError, match="not an email address"):
        call_command("createstaff", "not-an-email", "--role", "Owner")
    assert not User.objects.exists()


def test_createstaff_refuses_an_unknown_role():
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("createstaff", "a@example.com", "--role", "Intern")
    assert not User.objects.exists()


def test_createstaff_before_setup_roles_says_what_to_run():
    with pytest.raises(CommandError, match="setup_roles"):
        call_command("createstaff", "a@example.com", "--role", "Owner")
    assert not User.objects.exists()
