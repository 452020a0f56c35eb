"""The bundled demo catalog: 3,201 real films with known data errors, validated row by row.

Each row is checked on its own; a row that cannot make a film is skipped with a reason, and a
value that is impossible (a 1939 film dated 2039, a negative gross) is corrected or dropped and
reported, so the load never trusts the file and never fails as a whole.
"""

from __future__ import annotations

import json
import math
import os
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from aura.extensions import db
from aura.models import Genre, Movie, movie_genre
from aura.services import accounts, samples, scores, videos

DATA_FILE = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "demo-catalog.json")
# The dataset lists films up to 2011; a later date is a two-digit year read in the wrong century.
DATASET_YEAR = 2011
CERTIFICATIONS = {"G", "PG", "PG-13", "R", "NC-17", "Not Rated"}


@dataclass
class DemoFilm:
    title: str
    release_date: date | None
    genre: str | None
    director: str | None
    certification: str | None
    runtime: int | None
    vote_average: float | None
    vote_count: int | None
    budget: int | None
    revenue: int | None
    facts: dict[str, Any]

    @property
    def key(self) -> tuple[str, int | None]:
        return (self.title.casefold(), self.release_date.year if self.release_date else None)


@dataclass
class Report:
    films: list[DemoFilm] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (row number, reason)
    corrected: list[tuple[int, str]] = field(default_factory=list)
    loaded: int = 0
    already_present: int = 0


def _text(value: Any, limit: int) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        value = str(value)  # numeric titles are real films: "1776", "300", "2012"
    if not isinstance(value, str):
        return None
    cleaned = "".join(ch for ch in unicodedata.normalize("NFC", value) if ch.isprintable())
    cleaned = " ".join(cleaned.split())
    return cleaned[:limit] or None


def _number(value: Any, low: float, high: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or not low <= value <= high:
        return None
    return value


def _title(raw: Any) -> str | None:
    title = _text(raw, 500)
    if title is None:
        return None
    # "Charge of the Light Brigade, The" -> "The Charge of the Light Brigade"
    match = re.fullmatch(r"(.+), (The|A|An)", title)
    return f"{match.group(2)} {match.group(1)}" if match else title


def validate_row(number: int, row: Any, report: Report) -> DemoFilm | None:
    """A film from one raw row, or None with the reason added to ``report.skipped``."""
    if not isinstance(row, dict):
        report.skipped.append((number, "not an object"))
        return None
    title = _title(row.get("Title"))
    if title is None:
        report.skipped.append((number, f"no usable title ({row.get('Title')!r})"))
        return None

    released = None
    raw_date = row.get("Release Date")
    if isinstance(raw_date, str):
        try:
            released = datetime.strptime(raw_date.strip(), "%b %d %Y").date()
        except ValueError:
            report.corrected.append(
                (number, f"{title}: unreadable release date {raw_date!r} dropped")
            )
        if released and released.year > DATASET_YEAR:
            fixed = released.replace(year=released.year - 100)
            report.corrected.append(
                (number, f"{title}: release year {released.year} read as {fixed.year}")
            )
            released = fixed

    facts: dict[str, Any] = {}
    for key, label in (
        ("Distributor", "distributor"),
        ("Source", "source_material"),
        ("Creative Type", "creative_type"),
    ):
        if (value := _text(row.get(key), 120)) is not None:
            facts[label] = value
    for key, label in (("US Gross", "us_gross"), ("US DVD Sales", "us_dvd_sales")):
        if (value := _number(row.get(key), 0, 1e11)) is not None:
            facts[label] = int(value)
    if (critics := _number(row.get("Rotten Tomatoes Rating"), 0, 100)) is not None:
        facts["rotten_tomatoes"] = int(critics)

    certification = _text(row.get("MPAA Rating"), 20)
    if certification is not None and certification not in CERTIFICATIONS:
        report.corrected.append((number, f"{title}: unknown rating {certification!r} dropped"))
        certification = None

    rating = _number(row.get("IMDB Rating"), 1, 10)
    votes = _number(row.get("IMDB Votes"), 0, 1e8)
    runtime = _number(row.get("Running Time min"), 1, 600)
    budget = _number(row.get("Production Budget"), 1, 1e10)
    revenue = _number(row.get("Worldwide Gross"), 0, 1e11)
    return DemoFilm(
        title=title,
        release_date=released,
        genre=_text(row.get("Major Genre"), 80),
        director=_text(row.get("Director"), 300),
        certification=certification,
        runtime=int(runtime) if runtime is not None else None,
        vote_average=float(rating) if rating is not None and votes else None,
        vote_count=int(votes) if votes is not None else None,
        budget=int(budget) if budget is not None else None,
        revenue=int(revenue) if revenue is not None else None,
        facts=facts,
    )


def read_catalog(path: str = DATA_FILE) -> Report:
    """Validate every row of the catalog file; duplicates (same title and year) are skipped."""
    with open(path, encoding="utf-8") as fh:
        rows = json.load(fh)
    report = Report()
    if not isinstance(rows, list):
        report.skipped.append((0, "the file is not a list of films"))
        return report
    seen: dict[tuple[str, int | None], int] = {}
    for number, row in enumerate(rows, start=1):
        film = validate_row(number, row, report)
        if film is None:
            continue
        if film.key in seen:
            report.skipped.append((number, f"duplicate of row {seen[film.key]} ({film.title})"))
            continue
        seen[film.key] = number
        report.films.append(film)
    return report


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def load_demo(path: str = DATA_FILE) -> Report:
    """Add the demo films that are not in the database yet; idempotent. Commits."""
    report = read_catalog(path)
    existing = {
        (title.casefold(), released.year if released else None)
        for title, released in db.session.execute(
            sa.select(Movie.title, Movie.release_date).where(Movie.source == "demo")
        )
    }
    genres = {genre.name: genre for genre in db.session.scalars(sa.select(Genre))}
    new_films = [film for film in report.films if film.key not in existing]
    report.already_present = len(report.films) - len(new_films)
    for name in sorted({film.genre for film in new_films if film.genre} - set(genres)):
        genres[name] = Genre(name=name, slug=slugify(name))
        db.session.add(genres[name])
    db.session.flush()

    for film in new_films:
        movie = Movie(
            title=film.title,
            release_date=film.release_date,
            director=film.director,
            certification=film.certification,
            runtime=film.runtime,
            vote_average=film.vote_average,
            vote_count=film.vote_count,
            popularity=round((film.vote_count or 0) / 1000, 3),
            budget=film.budget,
            revenue=film.revenue,
            facts=film.facts or None,
            source="demo",
        )
        db.session.add(movie)
        film.movie = movie  # type: ignore[attr-defined]
    db.session.flush()
    links = [
        {"movie_id": film.movie.id, "genre_id": genres[film.genre].id}  # type: ignore[attr-defined]
        for film in new_films
        if film.genre
    ]
    if links:
        db.session.execute(sa.insert(movie_genre), links)
    report.loaded = len(new_films)
    db.session.commit()
    if new_films:
        scores.recompute_all()
    return report


def prepare_site(echo, report) -> None:
    """Everything ``aura demo`` needs beyond the schema, each step skipped when already done."""
    if db.session.scalar(sa.select(sa.exists().where(Movie.source == "demo"))):
        echo("Demo catalog already loaded.")
    else:
        report(load_demo(), verbose=False)

    created = accounts.ensure_demo_accounts()
    for account in created:
        echo(f"Demo {account.role}: {account.email}  password: {account.password}")
    if created:
        echo("Note these passwords now: they are shown only this once.")
    else:
        echo("Demo accounts already exist (their passwords were shown when they were created).")

    samples.install_samples(echo)
    # A site made before Aura read durations gets them now (each file is read once).
    if filled := videos.fill_durations().read:
        echo(f"Read the duration of {filled} stored videos.")
