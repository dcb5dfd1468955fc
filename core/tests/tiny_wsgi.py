"""A WSGI app that answers 200 to anything: gunicorn's access log without the portal behind it."""


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
