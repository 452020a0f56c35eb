"""The demo catalog importer, on the real bundled dataset and on hostile rows."""

import json
import math

import pytest
import sqlalchemy as sa

from aura.models import Genre, Movie
from aura.services import demo


@pytest.fixture(scope="module")
def report():
    return demo.read_catalog()


def by_title(report, title):
    return [film for film in report.films if film.title == title]


def test_the_real_dataset_loads_every_usable_row(report):
    assert len(report.films) == 3200
    assert report.skipped == [(3054, "no usable title (None)")]


def test_numeric_titles_are_real_films_and_kept_as_text(report):
    for title in ("1776", "300", "2012", "21", "9"):
        assert by_title(report, title), title


def test_dates_in_the_wrong_century_are_corrected_and_reported(report):
    (gone,) = by_title(report, "Gone with the Wind")
    assert gone.release_date.year == 1939
    assert any(
        "Gone with the Wind: release year 2039 read as 1939" in r for _, r in report.corrected
    )
    # Real 2011 films stay in 2011.
    (tintin,) = by_title(report, "The Adventures of Tintin: Secret of the Unicorn")
    assert tintin.release_date.year == 2011


def test_unknown_ratings_are_dropped_and_reported(report):
    (film,) = by_title(report, "Requiem for a Dream")
    assert film.certification is None
    assert any("Requiem for a Dream: unknown rating 'Open'" in r for _, r in report.corrected)


def test_inverted_titles_read_naturally(report):
    assert by_title(report, "The Charge of the Light Brigade")


def test_remakes_with_the_same_title_are_different_films(report):
    assert len(by_title(report, "King Kong")) == 2


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("not a dict", "not an object"),
        ({"Title": None}, "no usable title"),
        ({"Title": "   "}, "no usable title"),
        ({"Title": True}, "no usable title"),
        ({"Title": ["a list"]}, "no usable title"),
        ({"Title": "\x00\x01"}, "no usable title"),
    ],
)
def test_rows_without_a_film_are_skipped_with_a_reason(row, reason):
    report = demo.Report()
    assert demo.validate_row(7, row, report) is None
    assert report.skipped[0][0] == 7 and reason in report.skipped[0][1]


def test_impossible_values_are_dropped_not_trusted():
    report = demo.Report()
    film = demo.validate_row(
        1,
        {
            "Title": "Odd\x00 Film",
            "Release Date": "Smarch 45 1999",
            "Running Time min": -5,
            "IMDB Rating": 42,
            "IMDB Votes": math.nan,
            "Rotten Tomatoes Rating": 140,
            "Worldwide Gross": -1000,
            "Production Budget": "lots",
            "Director": {"name": "x"},
            "Major Genre": "Drama",
        },
        report,
    )
    assert film.title == "Odd Film"
    assert film.release_date is film.runtime is film.vote_average is film.director is None
    assert film.revenue is film.budget is None
    assert "rotten_tomatoes" not in film.facts
    assert film.genre == "Drama"
    assert any("unreadable release date" in r for _, r in report.corrected)


def test_a_file_that_is_not_a_list_loads_nothing(tmp_path):
    path = tmp_path / "movies.json"
    path.write_text(json.dumps({"movies": []}))
    report = demo.read_catalog(str(path))
    assert report.films == [] and report.skipped == [(0, "the file is not a list of films")]


def test_duplicate_rows_are_skipped(tmp_path):
    path = tmp_path / "movies.json"
    row = {"Title": "Twice", "Release Date": "Jan 01 2000"}
    path.write_text(json.dumps([row, row]))
    report = demo.read_catalog(str(path))
    assert len(report.films) == 1 and report.skipped == [(2, "duplicate of row 1 (Twice)")]


def test_loading_is_idempotent_and_builds_genres_and_scores(db):
    first = demo.load_demo()
    assert first.loaded == 3200
    second = demo.load_demo()
    assert second.loaded == 0 and second.already_present == 3200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Movie)) == 3200
    slugs = set(db.session.scalars(sa.select(Genre.slug)))
    assert {"drama", "comedy", "thriller-suspense", "romantic-comedy"} <= slugs
    shawshank = db.session.scalar(sa.select(Movie).where(Movie.title == "The Shawshank Redemption"))
    assert shawshank.popular_score > 0 and shawshank.top_rated_score > 8
