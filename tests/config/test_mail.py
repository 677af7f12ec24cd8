import copy

from django.core import mail

from config.mail import render_email, send_templated_email


def test_templated_email_sends_text_and_html(settings, tmp_path):
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [tmp_path, *templates[0]["DIRS"]]
    settings.TEMPLATES = templates  # assigning (not mutating) resets the template engines
    folder = tmp_path / "emails" / "greeting"
    folder.mkdir(parents=True)
    (folder / "subject.txt").write_text("Hello {{ name }}\nfrom {{ store_name }}\n")
    (folder / "body.txt").write_text("Hi {{ name }}, visit {{ site_url }}")
    (folder / "body.html").write_text("<p>Hi <b>{{ name }}</b></p>")

    send_templated_email(
        template="greeting",
        to=["ava@example.net"],
        context={"name": "Ava"},
        headers={"List-Unsubscribe": "<https://shop.example/u/1>"},
    )

    [message] = mail.outbox
    assert message.subject == f"Hello Ava from {settings.STORE_NAME}"
    assert message.body == f"Hi Ava, visit {settings.SITE_URL}"
    assert message.alternatives[0].content == "<p>Hi <b>Ava</b></p>"
    assert message.to == ["ava@example.net"]
    assert message.extra_headers["List-Unsubscribe"] == "<https://shop.example/u/1>"


def test_password_reset_email_renders_from_the_triple(settings):
    url = "https://shop.example/dashboard/password-reset/MQ/abc-123/"
    subject, text, html = render_email(
        "staff_password_reset", {"email": "a@example.com", "reset_url": url}
    )
    assert subject == f"Reset your {settings.STORE_NAME} dashboard password"
    assert url in text
    assert f'href="{url}"' in html
