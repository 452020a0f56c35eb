def test_home_renders(client, db):
    from tests.factories import make_movie

    make_movie("Smoke Test Film", popular_score=9)
    response = client.get("/")
    assert response.status_code == 200
    assert b"Smoke Test Film" in response.data
