"""The rating and unsubscribe routes over HTTP, without a browser."""

from __future__ import annotations

from datetime import timedelta

import httpx

from tests.pages.conftest import RatingSite


def test_opening_a_rating_link_records_nothing(rating_site: RatingSite) -> None:
    send_id = rating_site.add_send()
    url = rating_site.signer.rating_url(send_id, 4)

    page = httpx.get(url)
    httpx.head(url)

    assert page.status_code == 200
    assert 'value="4" id="rate-score-4" checked' in page.text
    assert rating_site.store.responses == {}


def test_the_rating_page_is_not_cached_indexed_or_leaking_its_url(rating_site: RatingSite) -> None:
    page = httpx.get(rating_site.signer.rating_url(rating_site.add_send(), 4))

    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["x-robots-tag"] == "noindex"
    assert "script-src 'nonce-" in page.headers["content-security-policy"]


def test_posting_the_form_records_the_score_and_comment(rating_site: RatingSite) -> None:
    send_id = rating_site.add_send()
    url = rating_site.signer.rating_url(send_id, 4)

    page = httpx.post(url, data={"score": "2", "comment": "  Slow answer  "})

    assert page.status_code == 200
    assert "Thank you" in page.text
    response = rating_site.store.responses[send_id]
    assert (response.score, response.comment, response.counted) == (2, "Slow answer", True)


def test_a_posted_score_off_the_scale_falls_back_to_the_links_score(
    rating_site: RatingSite,
) -> None:
    send_id = rating_site.add_send()
    httpx.post(rating_site.signer.rating_url(send_id, 4), data={"score": "11"})

    assert rating_site.store.responses[send_id].score == 4


def test_autosave_keeps_the_comment_and_answers_json(rating_site: RatingSite) -> None:
    send_id = rating_site.add_send()
    url = rating_site.signer.rating_url(send_id, 4)
    httpx.post(url, data={"score": "4", "comment": "Great"})

    answer = httpx.post(url, data={"score": "5", "autosave": "1"})

    assert answer.json() == {"result": "updated"}
    response = rating_site.store.responses[send_id]
    assert (response.score, response.comment) == (5, "Great")


def test_a_tampered_link_gets_a_clear_page_and_changes_nothing(rating_site: RatingSite) -> None:
    send_id = rating_site.add_send()
    url = rating_site.signer.rating_url(send_id, 1)
    tampered = url[:-3] + ("xyz" if not url.endswith("xyz") else "abc")

    shown, posted = httpx.get(tampered), httpx.post(tampered, data={"score": "5"})

    assert (shown.status_code, posted.status_code) == (400, 400)
    assert "This link does not work" in shown.text
    assert "nothing was recorded" in posted.text
    assert rating_site.store.responses == {}


def test_an_old_link_says_it_expired(rating_site: RatingSite) -> None:
    url = rating_site.signer.rating_url(rating_site.add_send(), 5)
    rating_site.clock.advance(timedelta(days=91))

    page = httpx.post(url, data={"score": "5"})

    assert page.status_code == 410
    assert "This link has expired" in page.text
    assert rating_site.store.responses == {}


def test_a_link_to_an_erased_send_is_not_found(rating_site: RatingSite) -> None:
    page = httpx.get(rating_site.signer.rating_url("snd_gone", 5))

    assert page.status_code == 404
    assert "This link does not work" in page.text


def test_a_late_first_answer_is_kept_but_not_counted(rating_site: RatingSite) -> None:
    send_id = rating_site.add_send(open_for=timedelta(days=3))
    url = rating_site.signer.rating_url(send_id, 3)
    rating_site.clock.advance(timedelta(days=4))

    shown = httpx.get(url)
    httpx.post(url, data={"score": "3", "comment": "late"})

    assert "This survey has closed, but we still read every answer." in shown.text
    assert rating_site.store.responses[send_id].counted is False


def test_an_answer_can_change_while_open_and_not_after(rating_site: RatingSite) -> None:
    send_id = rating_site.add_send(open_for=timedelta(days=3))
    url = rating_site.signer.rating_url(send_id, 2)
    first = httpx.post(url, data={"score": "2", "comment": "meh"})
    changed = httpx.post(url, data={"score": "4", "comment": "better now"})
    rating_site.clock.advance(timedelta(days=3))

    too_late = httpx.post(url, data={"score": "1", "comment": "changed my mind"})

    assert "Change your answer" in first.text and "Change your answer" in changed.text
    assert "can no longer be changed" in too_late.text
    response = rating_site.store.responses[send_id]
    assert (response.score, response.comment) == (4, "better now")


def test_unsubscribe_get_only_asks(rating_site: RatingSite) -> None:
    page = httpx.get(rating_site.signer.unsubscribe_url(rating_site.add_send()))

    assert page.status_code == 200
    assert '<form method="post">' in page.text
    assert rating_site.store.opted_out == {}


def test_one_click_unsubscribe_from_mail_software_opts_out_at_once(
    rating_site: RatingSite,
) -> None:
    url = rating_site.signer.unsubscribe_url(rating_site.add_send(to="ada@example.com"))

    # What RFC 8058 mail software sends: a POST with this form body, no cookies, no page.
    answer = httpx.post(
        url,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert answer.status_code == 200
    assert "You're unsubscribed" in answer.text
    assert list(rating_site.store.opted_out) == ["ada@example.com"]


def test_one_click_unsubscribe_as_multipart_also_works(rating_site: RatingSite) -> None:
    url = rating_site.signer.unsubscribe_url(rating_site.add_send(to="bo@example.com"))

    answer = httpx.post(url, files={"List-Unsubscribe": (None, "One-Click")})

    assert answer.status_code == 200
    assert list(rating_site.store.opted_out) == ["bo@example.com"]


def test_a_tampered_unsubscribe_link_opts_nobody_out(rating_site: RatingSite) -> None:
    url = rating_site.signer.unsubscribe_url(rating_site.add_send())

    answer = httpx.post(url + "x")

    assert answer.status_code == 400
    assert rating_site.store.opted_out == {}


def test_a_rating_token_is_no_unsubscribe_token(rating_site: RatingSite) -> None:
    token = rating_site.token(rating_site.signer.rating_url(rating_site.add_send(), 1))

    answer = httpx.post(f"{rating_site.url}/unsubscribe/{token}")

    assert answer.status_code == 400
    assert rating_site.store.opted_out == {}


def test_a_bare_post_records_the_links_score(rating_site: RatingSite) -> None:
    send_id = rating_site.add_send()
    httpx.post(rating_site.signer.rating_url(send_id, 3))

    assert rating_site.store.responses[send_id].score == 3


def test_a_comment_is_shown_back_escaped_and_kept_to_its_limit(rating_site: RatingSite) -> None:
    send_id = rating_site.add_send()
    url = rating_site.signer.rating_url(send_id, 1)

    page = httpx.post(url, data={"score": "1", "comment": "<script>alert(1)</script>"})
    httpx.post(url, data={"score": "1", "comment": "x" * 5000})

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script>alert" not in page.text
    assert rating_site.store.responses[send_id].comment == "x" * 2000
