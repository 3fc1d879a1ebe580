"""The pages in the send's language, the browser's for a link that names no send, and in the
company's brand."""

from __future__ import annotations

import httpx

from tests.pages.conftest import RatingSite

QUESTION_AR = "ما مدى رضاك عن مساعدتنا؟"
PROMPT_AR = "ما السبب الرئيسي لتقييمك؟"


def test_an_arabic_send_gets_an_arabic_right_to_left_page_with_its_own_question(
    rating_site: RatingSite,
) -> None:
    send_id = rating_site.add_send(locale="ar", question=QUESTION_AR, comment_prompt=PROMPT_AR)
    page = httpx.get(rating_site.signer.rating_url(send_id, 4))
    assert page.status_code == 200 and page.headers["content-language"] == "ar"
    assert '<html lang="ar" dir="rtl">' in page.text
    assert f"<h1>{QUESTION_AR}</h1>" in page.text and PROMPT_AR in page.text
    assert "إرسال إجابتي" in page.text and "غير راضٍ إطلاقًا" in page.text


def test_a_locale_without_a_catalog_gets_english_and_a_regional_one_its_language(
    rating_site: RatingSite,
) -> None:
    japanese = httpx.get(rating_site.signer.rating_url(rating_site.add_send("s_ja", locale="ja"), 4))
    assert '<html lang="en" dir="ltr">' in japanese.text and "Send my answer" in japanese.text
    mexican = httpx.get(rating_site.signer.unsubscribe_url(rating_site.add_send("s_mx", locale="es-MX")))
    assert (
        '<html lang="es" dir="ltr">' in mexican.text and "¿Dejar de recibir estas encuestas?" in mexican.text
    )
    done = httpx.post(rating_site.signer.unsubscribe_url("s_mx"))
    assert "Se ha dado de baja" in done.text


def test_a_broken_link_is_explained_in_the_browsers_language(rating_site: RatingSite) -> None:
    url = rating_site.signer.rating_url(rating_site.add_send(), 4)[:-3] + "xyz"
    german = httpx.get(url, headers={"Accept-Language": "ja;q=1, de-CH;q=0.9, fr;q=0.8"})
    assert german.status_code == 400 and "Dieser Link funktioniert nicht" in german.text
    assert "This link does not work" in httpx.get(url, headers={"Accept-Language": "*, ;q=x"}).text


def test_a_brand_dresses_the_page(branded_site: RatingSite) -> None:
    page = httpx.get(branded_site.signer.rating_url(branded_site.add_send(), 4))
    logo = f"{branded_site.url}/static/logo.svg"
    assert f'<img src="{logo}" alt="Acme" height="40">' in page.text
    assert "--accent: #7c2d12;" in page.text
    assert (
        '<a href="https://help.acme.example/contact" rel="noopener noreferrer">Need help? Contact support</a>'
        in page.text
    )
    assert f"img-src {branded_site.url};" in page.headers["content-security-policy"]


def test_without_a_brand_the_page_has_no_logo_and_no_images_allowed(rating_site: RatingSite) -> None:
    page = httpx.get(rating_site.signer.rating_url(rating_site.add_send(), 4))
    assert "<img" not in page.text and "img-src" not in page.headers["content-security-policy"]
    assert "--accent: #2563eb;" in page.text
