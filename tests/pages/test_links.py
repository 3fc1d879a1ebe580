"""Signed rating and unsubscribe links."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.pages.links import ExpiredLink, InvalidLink, LinkSigner
from bot.runtime.clock import FakeClock

PUBLIC_URL = "https://surveys.example.com"


def signer(clock: FakeClock | None = None, secret: str = "s3cret-key") -> LinkSigner:
    return LinkSigner(secret, PUBLIC_URL + "/", clock=clock or FakeClock())


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def test_a_rating_url_reads_back_as_its_send_and_score() -> None:
    links = signer()
    url = links.rating_url("snd_01", 4)

    assert url.startswith(f"{PUBLIC_URL}/r/")
    assert links.read_rating_token(token_of(url)) == ("snd_01", 4)


def test_rating_urls_cover_the_whole_scale_each_with_its_own_token() -> None:
    urls = signer().rating_urls("snd_01", (0, 10))

    assert sorted(urls) == list(range(11))
    assert len(set(urls.values())) == 11
    assert [signer().read_rating_token(token_of(u))[1] for u in urls.values()] == list(range(11))


def test_an_unsubscribe_url_reads_back_as_its_send() -> None:
    links = signer()
    url = links.unsubscribe_url("snd_01")

    assert url.startswith(f"{PUBLIC_URL}/unsubscribe/")
    assert links.read_unsubscribe_token(token_of(url)) == "snd_01"


def test_the_token_does_not_show_an_editable_score() -> None:
    """The score is inside the signed payload: changing any character breaks the signature."""
    token = signer().rating_token("snd_01", 1)
    for i in range(len(token)):
        flipped = "A" if token[i] != "A" else "B"
        tampered = token[:i] + flipped + token[i + 1 :]
        with pytest.raises(InvalidLink):
            signer().read_rating_token(tampered)


@pytest.mark.parametrize("token", ["", "nonsense", "a.b.c", "snd_01.5"])
def test_garbage_is_an_invalid_link(token: str) -> None:
    with pytest.raises(InvalidLink, match="not valid"):
        signer().read_rating_token(token)


def test_a_link_signed_with_another_secret_is_invalid() -> None:
    token = signer(secret="someone-else").rating_token("snd_01", 5)
    with pytest.raises(InvalidLink):
        signer().read_rating_token(token)


def test_one_kind_of_token_cannot_pass_for_the_other() -> None:
    links = signer()
    with pytest.raises(InvalidLink):
        links.read_rating_token(links.unsubscribe_token("snd_01"))
    with pytest.raises(InvalidLink):
        links.read_unsubscribe_token(links.rating_token("snd_01", 5))


def test_a_link_older_than_max_age_is_expired_and_says_so() -> None:
    clock = FakeClock()
    links = signer(clock)
    rating, unsubscribe = links.rating_token("snd_01", 3), links.unsubscribe_token("snd_01")

    clock.advance(timedelta(days=30))
    assert links.read_rating_token(rating, max_age=timedelta(days=30)) == ("snd_01", 3)

    clock.advance(timedelta(seconds=1))
    with pytest.raises(ExpiredLink, match="too old"):
        links.read_rating_token(rating, max_age=timedelta(days=30))
    with pytest.raises(ExpiredLink):
        links.read_unsubscribe_token(unsubscribe, max_age=timedelta(days=30))
    assert links.read_rating_token(rating, max_age=None) == ("snd_01", 3)


def test_an_expired_link_is_also_an_invalid_link() -> None:
    assert issubclass(ExpiredLink, InvalidLink)


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="secret"):
        LinkSigner("", PUBLIC_URL)
