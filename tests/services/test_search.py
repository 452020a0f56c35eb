import pytest

from aura.services.search import RESULT_LIMIT, clean_query, search_movies
from tests.factories import make_movie


def titles(result):
    return [movie.title for movie in result.movies]


@pytest.fixture
def films(db):
    return {
        "godfather": make_movie(
            "The Godfather",
            director="Francis Ford Coppola",
            overview="The aging patriarch of an organized crime dynasty.",
        ),
        "amelie": make_movie(
            "Amélie",
            original_title="Le Fabuleux Destin d'Amélie Poulain",
            director="Jean-Pierre Jeunet",
            overview="A shy waitress in Paris.",
        ),
        "heat": make_movie(
            "Heat", director="Michael Mann", overview="A group of professional bank robbers."
        ),
        "matrix": make_movie(
            "The Matrix",
            director="Lana Wachowski",
            overview="A hacker learns the truth about reality.",
        ),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("godfather", "The Godfather"),  # title
        ("coppola", "The Godfather"),  # director
        ("fabuleux destin", "Amélie"),  # original title
        ("bank robbers", "Heat"),  # overview
        ("GODFA", "The Godfather"),  # prefix, any case
        ("amelie", "Amélie"),  # diacritics do not matter
        ("atrix", "The Matrix"),  # a piece of a word still finds the title
    ],
)
def test_search_finds_films_by_every_field(films, query, expected):
    assert expected in titles(search_movies(query))


def test_a_title_match_ranks_above_an_overview_match(db):
    make_movie("A Quiet Evening", overview="Nothing about any heist at all.", popular_score=100)
    make_movie("The Heist", overview="Robbers.", popular_score=1)
    assert titles(search_movies("heist"))[0] == "The Heist"


def test_hidden_films_are_not_found_by_viewers(db):
    make_movie("Secret Cut", hidden=True)
    assert titles(search_movies("secret")) == []
    assert titles(search_movies("secret", include_hidden=True)) == ["Secret Cut"]


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '""',
        "*",
        "'",
        "-",
        "^",
        ":",
        "(",
        ")",
        "NEAR(a b)",
        "AND",
        "OR NOT",
        "title:heat",
        "%",
        "_",
        "\\",
        "%%__\\",
        "'; DROP TABLE movie; --",
        'heat" OR "1"="1',
        "{x}",
        "\x00",
        "heat\x00",
        "😀",
        "🎬 heat",
        "\u202eheat\u202c",
        "\u200f",
        "a" * 10_000,
        "heat " * 2_000,
        "<script>alert(1)</script>",
        "&amp;",
        "heat:*",
        "!heat",
    ],
)
def test_query_syntax_and_odd_text_are_only_ever_words(films, query):
    result = search_movies(query)  # never raises
    assert len(result.movies) <= RESULT_LIMIT
    assert len(result.query) <= 200
    if "heat" in query.lower() and len(query) < 5000:
        assert "Heat" in titles(result)


def test_like_metacharacters_match_literally(db):
    make_movie("100% Arabica")
    make_movie("1000 Arabian Nights")
    assert titles(search_movies("0%")) == ["100% Arabica"]


def test_a_very_long_query_is_cut_to_a_bounded_one(films):
    assert clean_query("x" * 10_000) == "x" * 200
    assert clean_query("he\x00at\tnow") == "he at now"


def test_an_empty_query_gives_no_results_and_no_query(films):
    for empty in ("", "   ", "\x00\x01", None):
        result = search_movies(empty)
        assert result.query == "" and result.movies == []


def test_results_are_capped_and_say_so(db):
    for n in range(RESULT_LIMIT + 5):
        make_movie(f"Common Word {n}")
    result = search_movies("common")
    assert len(result.movies) == RESULT_LIMIT
    assert result.limited


def test_all_words_beat_any_word(films):
    # Both words match only Heat; either word alone would also match other films.
    assert titles(search_movies("bank robbers"))[0] == "Heat"
    # No film has every word, so films with any of them come back, best first.
    assert set(titles(search_movies("hacker waitress"))) == {"The Matrix", "Amélie"}


def test_films_named_by_the_words_come_before_films_that_only_mention_them(db):
    make_movie("Harbour Lights", overview="Dock workers.", popular_score=1)
    make_movie("Docklands", overview="Harbour lights at dawn.", popular_score=90)
    make_movie("Lights Out", overview="Harbour town.", popular_score=80)
    make_movie("Quiet", director="Lights Harbour", overview="A quiet film.", popular_score=5)
    found = titles(search_movies("harbour lights"))
    # Every word in a name (title or director) first, by relevance; then every word anywhere.
    assert found[:2] == ["Harbour Lights", "Quiet"]
    assert set(found[2:]) == {"Docklands", "Lights Out"}


def test_a_page_of_title_matches_leaves_the_overview_matches_unranked(db):
    for n in range(RESULT_LIMIT + 2):
        make_movie(f"Lantern {n}", popular_score=n)
    make_movie("Elsewhere", overview="A lantern on every page.", popular_score=1000)
    result = search_movies("lantern")
    assert "Elsewhere" not in titles(result) and result.limited
    # Among equally relevant titles, the more popular come first.
    assert titles(result)[0] == f"Lantern {RESULT_LIMIT + 1}"


def test_the_second_tier_fills_what_the_first_leaves(db):
    for n in range(3):
        make_movie(f"Compass {n}")
    for n in range(RESULT_LIMIT):
        make_movie(f"Other {n}", overview="Follow the compass north.")
    result = search_movies("compass")
    assert set(titles(result)[:3]) == {"Compass 0", "Compass 1", "Compass 2"}
    assert len(result.movies) == RESULT_LIMIT and result.limited
    assert len(set(titles(result))) == RESULT_LIMIT  # nothing twice
