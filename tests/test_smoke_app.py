def test_every_starter_screen_and_api_answers(client, app):
    from app.demo.loader import load_demo
    with app.app_context():
        state = app.extensions["crm"]
        load_demo(state.db.session, state.models, size=5)
        names = [e.name for e in state.spec.entities]
    for name in names:
        for url in (f"/crm/{name}/list/", f"/crm/{name}/add", f"/crm/{name}/show/1",
                    f"/crm/{name}/edit/1", f"/api/v1/{name}/", f"/api/v1/{name}/1",
                    f"/api/v1/{name}/_info", f"/api/v1/{name}/picker?q=a"):
            response = client.get(url)
            assert response.status_code == 200, (url, response.data[:300])
