"""A small but real Flask application served by wsgid (tests/integration/test_flask.py).

Serve it with `wsgid flask_app:app` from this directory, or through the factory with
`wsgid 'flask_app:create_app()'`. Routes:

  GET  /              HTML form that posts to /form
  POST /form          echoes the urlencoded fields back in an HTML page (autoescaped)
  POST /upload        multipart upload; returns the file's name, size and SHA-256 as JSON
  GET  /api/info      JSON: a few WSGI environ facts the app can see
  POST /api/echo      JSON: echoes the request's JSON document back
  GET  /stream        streamed (generator) response of ?chunks=N numbered lines
  GET  /download      send_file() of EXAMPLE_DOWNLOAD_FILE (or a generated 1 MiB file)
  GET  /error         raises, so Flask answers 500 and logs the traceback to wsgi.errors
"""
import hashlib
import os
import tempfile

from flask import (Flask, Response, jsonify, render_template_string, request,
                   send_file, stream_with_context)

FORM_PAGE = """<!doctype html>
<title>wsgid Flask example</title>
<form method="post" action="{{ url_for('form_echo') }}">
  <input name="name"> <input name="comment">
  <label><input type="checkbox" name="topping" value="cheese"> cheese</label>
  <label><input type="checkbox" name="topping" value="olives"> olives</label>
  <button>Send</button>
</form>
<form method="post" action="{{ url_for('upload') }}" enctype="multipart/form-data">
  <input type="file" name="file"> <input name="description"> <button>Upload</button>
</form>
"""

# Each field value gets its own <dd>, so a test can find "name -> value" pairs exactly.
ECHO_PAGE = """<!doctype html>
<title>Form received</title>
<dl>
{% for key, values in fields %}{% for value in values %}  <dt>{{ key }}</dt><dd>{{ value }}</dd>
{% endfor %}{% endfor %}</dl>
"""

# Streamed line format: the index and a digest of it, so a test can check every chunk
# arrived intact and in order without knowing how the server framed them.
STREAM_LINE = "%06d %s\n"
DEFAULT_STREAM_CHUNKS = 100
MAX_STREAM_CHUNKS = 100000

GENERATED_DOWNLOAD_SIZE = 1024 * 1024 + 123  # not a multiple of any block size


def stream_line(index):
    return STREAM_LINE % (index, hashlib.sha256(str(index).encode()).hexdigest())


def download_path():
    """The file /download serves: $EXAMPLE_DOWNLOAD_FILE, else a deterministic generated one."""
    configured = os.environ.get("EXAMPLE_DOWNLOAD_FILE")
    if configured:
        return configured
    path = os.path.join(tempfile.gettempdir(), "wsgid-flask-example-download.bin")
    if not os.path.exists(path):
        # Written under a private name then renamed, so concurrent workers never serve
        # a half-written file.
        fd, partial = tempfile.mkstemp(dir=os.path.dirname(path))
        with os.fdopen(fd, "wb") as f:
            block = hashlib.sha256(b"wsgid").digest() * 1024
            written = 0
            while written < GENERATED_DOWNLOAD_SIZE:
                piece = block[:GENERATED_DOWNLOAD_SIZE - written]
                f.write(piece)
                written += len(piece)
        os.replace(partial, path)
    return path


def create_app():
    """Application factory: `wsgid 'flask_app:create_app()'`."""
    app = Flask(__name__)

    @app.get("/")
    def index():
        return render_template_string(FORM_PAGE)

    @app.post("/form")
    def form_echo():
        fields = [(key, request.form.getlist(key)) for key in request.form.keys()]
        return render_template_string(ECHO_PAGE, fields=fields)

    @app.post("/upload")
    def upload():
        uploaded = request.files.get("file")
        if uploaded is None:
            # Also what a chunked body looks like if the server does not set
            # wsgi.input_terminated: Werkzeug then reads no body at all.
            return jsonify(error="no file field in the request"), 400
        digest = hashlib.sha256()
        size = 0
        while True:
            block = uploaded.stream.read(64 * 1024)
            if not block:
                break
            digest.update(block)
            size += len(block)
        return jsonify(filename=uploaded.filename, size=size, sha256=digest.hexdigest(),
                       description=request.form.get("description"))

    @app.get("/api/info")
    def info():
        environ = request.environ
        return jsonify(
            method=request.method,
            path=request.path,
            script_name=environ.get("SCRIPT_NAME", ""),
            query=request.args.to_dict(flat=False),
            wsgi_version=list(environ["wsgi.version"]),
            multithread=environ["wsgi.multithread"],
            multiprocess=environ["wsgi.multiprocess"],
            run_once=environ["wsgi.run_once"],
            pid=os.getpid(),
        )

    @app.post("/api/echo")
    def json_echo():
        document = request.get_json(silent=True)
        if document is None:
            return jsonify(error="request body is not JSON"), 400
        return jsonify(received=document, content_type=request.content_type)

    @app.get("/stream")
    def stream():
        @stream_with_context
        def generate():
            # request is read inside the generator on purpose: stream_with_context must keep
            # the request context alive while the server iterates the response.
            count = min(request.args.get("chunks", DEFAULT_STREAM_CHUNKS, type=int),
                        MAX_STREAM_CHUNKS)
            for index in range(count):
                yield stream_line(index)
            yield "end %d\n" % count

        return Response(generate(), mimetype="text/plain")

    @app.get("/download")
    def download():
        # send_file hands the open file to environ["wsgi.file_wrapper"]; it also answers
        # HEAD (no body) and Range requests (206) itself.
        return send_file(download_path(), mimetype="application/octet-stream",
                         as_attachment=True, download_name="payload.bin")

    @app.get("/error")
    def error():
        raise RuntimeError("flask example: intentional failure for the error-log test")

    return app


app = create_app()
