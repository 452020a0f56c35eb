"""Library routes: watchlist toggles and ratings both ways (htmx and plain forms), reviews,
/library, and that nobody can touch another person's library."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from aura.models import Movie, PlaybackProgress, Rating, WatchlistEntry, utcnow
from aura.services import library
from tests.conftest import login_as
from tests.factories import make_movie, make_user, watchlist_of
from tests.factories import make_video_row as make_video


def is_page(response):
    return "<html" in response.text


def assert_fragment(response, status=200):
    assert response.status_code == status
    assert not is_page(response)
    assert "HX-Request" in response.headers["Vary"]


# -- watchlist toggle -----------------------------------------------------------------------------


def test_htmx_toggle_returns_the_toggle_in_its_new_state(client, db, hx, signed_in):
    film = make_movie("Casablanca")
    on = client.post(f"/library/watchlist/{film.id}", headers=hx)
    assert_fragment(on)
    assert 'aria-pressed="true"' in on.text and "is-on" in on.text
    assert watchlist_of(signed_in.id) == {film.id}
    off = client.post(f"/library/watchlist/{film.id}", headers=hx)
    assert 'aria-pressed="false"' in off.text
    assert watchlist_of(signed_in.id) == frozenset()


def test_plain_form_toggle_goes_back_to_the_page(client, db, signed_in):
    film = make_movie("Casablanca")
    response = client.post(
        f"/library/watchlist/{film.id}", data={"on": "1", "next": "/rows/popular"}
    )
    assert response.status_code == 303 and response.headers["Location"] == "/rows/popular"
    assert "Added to your watchlist." in client.get("/rows/popular").text
    again = client.post(f"/library/watchlist/{film.id}", data={"on": "1", "next": "//evil"})
    assert again.headers["Location"] == f"/movies/{film.id}"  # an unsafe next is ignored
    assert watchlist_of(signed_in.id) == {film.id}  # "add" twice is still on


def test_cards_show_the_watchlist_state(client, db, signed_in):
    on_list, other = make_movie("On My List", popular_score=9), make_movie("Other", popular_score=8)
    library.set_watchlist(signed_in.id, on_list.id)
    home = client.get("/rows/popular").text
    toggles = re.findall(
        r'<form class="watch-toggle( is-on)?" action="/library/watchlist/(\d+)"', home
    )
    assert {int(movie_id): bool(state) for state, movie_id in toggles} == {
        on_list.id: True,
        other.id: False,
    }


def test_anonymous_toggle_goes_to_sign_in_and_back(client, db, hx, user, auth):
    film = make_movie()
    response = client.post(
        f"/library/watchlist/{film.id}",
        headers={**hx, "HX-Current-URL": "http://localhost/rows/popular?after=abc"},
    )
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/auth/login?next=/rows/popular?after%3Dabc"
    plain = client.post(
        f"/library/watchlist/{film.id}", headers={"Referer": f"http://localhost/movies/{film.id}"}
    )
    assert plain.status_code == 303
    assert plain.headers["Location"] == f"/auth/login?next=/movies/{film.id}"
    assert auth.login(user.email, next=f"/movies/{film.id}").headers["Location"] == (
        f"/movies/{film.id}"
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WatchlistEntry)) == 0


def test_anonymous_rating_goes_to_sign_in_and_writes_nothing(client, db, hx):
    film = make_movie()
    response = client.post(
        f"/library/ratings/{film.id}",
        data={"score": "8"},
        headers={**hx, "HX-Current-URL": f"http://localhost/movies/{film.id}"},
    )
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == f"/auth/login?next=/movies/{film.id}"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Rating)) == 0


@pytest.mark.parametrize(
    "path", ["/library/watchlist/{id}", "/library/ratings/{id}", "/library/ratings/{id}/delete"]
)
def test_hidden_and_missing_films_are_404(client, db, hx, signed_in, path):
    hidden = make_movie(hidden=True)
    response = client.post(path.format(id=hidden.id), data={"score": "5"})
    assert response.status_code == 404
    fragment = client.post(path.format(id=999_999), data={"score": "5"}, headers=hx)
    assert fragment.status_code == 404
    assert fragment.headers["HX-Retarget"] == "#notices"


# -- ratings --------------------------------------------------------------------------------------


def test_htmx_rating_returns_the_panel_and_the_new_aura_score(client, db, hx, signed_in):
    film = make_movie("Casablanca")
    response = client.post(
        f"/library/ratings/{film.id}", data={"score": "9", "review": "Great."}, headers=hx
    )
    assert_fragment(response)
    assert f'id="rate-{film.id}-9" checked' in response.text
    assert "Saved." in response.text
    assert 'id="aura-score" hx-swap-oob="true"' in response.text
    assert "Aura · 1 rating" in response.text
    db.session.expire_all()
    movie = db.session.get(Movie, film.id)
    assert (movie.rating_count, movie.rating_sum) == (1, 9)


def test_plain_form_rating_saves_and_goes_back_to_the_film(client, db, signed_in):
    film = make_movie("Casablanca")
    response = client.post(f"/library/ratings/{film.id}", data={"score": "7"})
    assert response.status_code == 303 and response.headers["Location"] == f"/movies/{film.id}"
    page = client.get(f"/movies/{film.id}").text
    assert "Your rating is saved." in page
    assert f'id="rate-{film.id}-7" checked' in page
    assert "7.0" in page and "Aura · 1 rating" in page


@pytest.mark.parametrize("score", ["0", "11", "abc", ""])
def test_bad_scores_are_422_with_a_message_both_ways(client, db, hx, signed_in, score):
    film = make_movie()
    fragment = client.post(f"/library/ratings/{film.id}", data={"score": score}, headers=hx)
    assert_fragment(fragment, 422)
    assert "Choose a score from 1 to 10." in fragment.text
    page = client.post(f"/library/ratings/{film.id}", data={"score": score, "review": "kept"})
    assert page.status_code == 422 and is_page(page)
    assert "Choose a score from 1 to 10." in page.text
    assert ">kept</textarea>" in page.text  # what was typed is not lost
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Rating)) == 0


def test_removing_a_rating_both_ways(client, db, hx, signed_in):
    film = make_movie()
    library.rate(signed_in.id, film.id, 4, "Meh")
    fragment = client.post(f"/library/ratings/{film.id}/delete", headers=hx)
    assert_fragment(fragment)
    assert "Rating removed." in fragment.text and "No Aura ratings yet" in fragment.text
    library.rate(signed_in.id, film.id, 4)
    page = client.post(f"/library/ratings/{film.id}/delete")
    assert page.status_code == 303
    db.session.expire_all()
    assert library.my_rating(signed_in.id, film.id) is None
    assert db.session.get(Movie, film.id).rating_count == 0


def test_one_user_can_never_change_another_users_rating_or_watchlist(client, db):
    ann, bob = make_user(display_name="Ann"), make_user(display_name="Bob")
    film = make_movie()
    library.rate(ann.id, film.id, 9, "Ann's review")
    library.set_watchlist(ann.id, film.id)
    login_as(client, bob)
    client.post(f"/library/ratings/{film.id}", data={"score": "1", "review": "Bob's"})
    client.post(f"/library/ratings/{film.id}/delete")
    client.post(f"/library/watchlist/{film.id}", data={"on": "0"})
    client.post(f"/library/watchlist/{film.id}")
    db.session.expire_all()
    mine = library.my_rating(ann.id, film.id)
    assert (mine.score, mine.review) == (9, "Ann's review")
    assert watchlist_of(ann.id) == {film.id}


def test_reviews_are_escaped_and_hidden_ones_never_shown(client, db):
    film = make_movie()
    author, hidden_author = make_user(display_name="<i>Eve</i>"), make_user()
    library.rate(author.id, film.id, 8, '<script>alert(1)</script><a hx-post="/x">hi</a>')
    library.rate(hidden_author.id, film.id, 2, "Spam spam spam")
    db.session.execute(
        sa.update(Rating).where(Rating.user_id == hidden_author.id).values(hidden=True)
    )
    db.session.commit()
    page = client.get(f"/movies/{film.id}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;a hx-post=" in page
    assert "<script>alert(1)" not in page and "<i>Eve</i>" not in page
    assert "&lt;i&gt;Eve&lt;/i&gt;" in page
    assert "Spam spam spam" not in page


def test_reviews_page_newest_first_with_more_both_ways(client, db, hx):
    film = make_movie()
    start = utcnow() - timedelta(days=1)
    for number in range(13):
        library.rate(make_user().id, film.id, 5, f"Review number {number:02d}")
    for number, rating in enumerate(db.session.scalars(sa.select(Rating).order_by(Rating.id))):
        rating.created_at = start + timedelta(minutes=number)
    db.session.commit()
    page = client.get(f"/movies/{film.id}").text
    shown = re.findall(r"Review number (\d+)", page)
    assert shown == [f"{n:02d}" for n in range(12, 2, -1)]  # ten newest, newest first
    more = re.search(r'href="(/library/reviews/\d+\?after=[^"]+)"', page).group(1)
    fragment = client.get(more.replace("&amp;", "&"), headers=hx)
    assert_fragment(fragment)
    assert re.findall(r"Review number (\d+)", fragment.text) == ["02", "01", "00"]
    assert "More reviews" not in fragment.text
    full = client.get(more.replace("&amp;", "&"))
    assert is_page(full) and "Reviews of" in full.text


def test_bad_review_cursor_is_a_clear_400(client, db):
    film = make_movie()
    response = client.get(f"/library/reviews/{film.id}?after=nonsense")
    assert response.status_code == 400
    assert "broken or out of date" in response.text


# -- /library -------------------------------------------------------------------------------------


def test_library_needs_an_account(client, db):
    response = client.get("/library")
    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/login?next=/library"


def test_library_watchlist_sorts_and_scrolls_both_ways(client, db, hx, signed_in):
    titles = [f"Film {n:02d}" for n in range(30)]
    films = [make_movie(title) for title in titles]
    start = utcnow() - timedelta(days=1)
    for number, film in enumerate(films):
        db.session.add(
            WatchlistEntry(
                user_id=signed_in.id, movie_id=film.id, added_at=start + timedelta(minutes=number)
            )
        )
    db.session.commit()
    page = client.get("/library/?sort=title")
    assert is_page(page)
    listed = re.findall(r'class="card-title">(Film \d\d)<', page.text)
    assert listed == titles[:24]
    next_url = re.search(r'hx-get="([^"]+)"', page.text[page.text.index("sentinel") :]).group(1)
    more = client.get(next_url.replace("&amp;", "&"), headers=hx)
    assert_fragment(more)
    assert re.findall(r'class="card-title">(Film \d\d)<', more.text) == titles[24:]
    newest = client.get("/library")
    assert re.findall(r'class="card-title">(Film \d\d)<', newest.text)[:2] == [
        titles[-1],
        titles[-2],
    ]
    assert 'aria-current="true">Recently added' in newest.text


def test_library_refuses_unknown_sorts_and_tabs(client, signed_in):
    assert client.get("/library/?sort=price").status_code == 400
    assert client.get("/library/?show=everything").status_code == 400
    assert client.get("/library/?after=zzz").status_code == 400


def test_library_leaves_out_hidden_films(client, db, signed_in):
    shown, hidden = make_movie("Shown Film"), make_movie("Secret Film")
    for film in (shown, hidden):
        library.set_watchlist(signed_in.id, film.id)
        library.rate(signed_in.id, film.id, 6)
    db.session.get(Movie, hidden.id).hidden = True
    db.session.commit()
    assert "Secret Film" not in client.get("/library").text
    ratings = client.get("/library/?show=ratings").text
    assert "Shown Film" in ratings and "Secret Film" not in ratings


def test_library_ratings_tab_lists_my_ratings_and_reviews(client, db, signed_in):
    film = make_movie("Rated Film")
    library.rate(signed_in.id, film.id, 6, "Solid <b>work</b>")
    page = client.get("/library/?show=ratings").text
    assert "Rated Film" in page and "6/10" in page and "Solid &lt;b&gt;work&lt;/b&gt;" in page


def test_continue_watching_row_shows_unfinished_videos(client, db, signed_in):
    assert "Nothing in progress" in client.get("/library?show=watching").text
    video = make_video(make_movie("Film With Video"), title="Director's Cut")
    db.session.add(
        PlaybackProgress(
            user_id=signed_in.id, video_id=video.id, position_seconds=50, duration_seconds=200
        )
    )
    db.session.commit()
    page = client.get("/library?show=watching").text
    assert 'id="row-continue">Continue watching' in page
    assert "Director&#39;s Cut" in page
    assert 'value="25"' in page  # a quarter watched
    assert "Director&#39;s Cut" not in client.get("/library").text  # apart from the watchlist
