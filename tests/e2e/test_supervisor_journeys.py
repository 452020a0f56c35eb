"""The supervisor portal in a real browser: moderation seen by a viewer, a reset link used."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import new_page
from tests.factories import PASSWORD, make_movie, make_supervisor, make_user

pytestmark = pytest.mark.e2e


def sign_in(page, email, password=PASSWORD):
    page.goto("/auth/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".account")).to_contain_text("Sign out")


def test_a_film_a_supervisor_hides_is_gone_from_a_viewers_home_page(page, browser, live_server, db):
    make_movie("Forbidden Planet", popular_score=80, vote_average=7.5, vote_count=900)
    boss = make_supervisor(email="boss.e2e@example.com")
    viewer_errors: list[str] = []
    viewer = new_page(browser, live_server, viewer_errors)
    viewer.goto("/")
    expect(viewer.locator(".strip").first).to_contain_text("Forbidden Planet")

    sign_in(page, boss.email)
    page.goto("/supervisor/movies?q=forbidden")
    row = page.locator("tr", has_text="Forbidden Planet")
    row.get_by_placeholder("Reason (optional)").fill("Rights lapsed")
    row.get_by_role("button", name=re.compile("^Hide")).click()
    # The row swaps in place (htmx): now hidden, with its reason, and the button to undo.
    expect(page.locator("tr", has_text="Forbidden Planet")).to_contain_text("Rights lapsed")
    expect(page.locator("tr", has_text="Forbidden Planet").get_by_role("button")).to_contain_text(
        "Show again"
    )

    viewer.reload()
    expect(viewer.locator("main")).not_to_contain_text("Forbidden Planet")
    viewer.goto("/search?q=forbidden")
    expect(viewer.locator("#results")).not_to_contain_text("Forbidden Planet")
    viewer.context.close()
    assert viewer_errors == []


def test_a_reset_link_lets_a_locked_out_viewer_choose_a_new_password(
    page, browser, live_server, db
):
    boss = make_supervisor(email="boss.reset@example.com")
    person = make_user(email="forgetful@example.com", display_name="Forgetful")
    sign_in(page, boss.email)
    page.goto("/supervisor/users?q=forgetful")
    page.get_by_role("button", name=re.compile("Reset link")).click()
    link = page.locator("#reset-link").input_value()
    assert "/auth/reset/" in link

    errors: list[str] = []
    viewer = new_page(browser, live_server, errors)
    viewer.goto("/auth/login")
    expect(viewer.locator("main")).to_contain_text("Ask a supervisor of this site for a reset link")
    viewer.goto(link)
    viewer.locator("#new_password").fill("marble canyon lantern 8")
    viewer.locator("#confirm_password").fill("marble canyon lantern 8")
    viewer.get_by_role("button", name="Set the new password").click()
    expect(viewer).to_have_url(re.compile(r"/auth/login"))
    expect(viewer.locator("#notices")).to_contain_text("Your password is changed")
    sign_in(viewer, person.email, "marble canyon lantern 8")
    expect(viewer.locator(".account")).to_contain_text("Forgetful")
    viewer.goto(link)  # used once: gone
    expect(viewer.locator("main")).to_contain_text("expired or was already used")
    viewer.context.close()
    assert errors == []
