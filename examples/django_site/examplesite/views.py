"""Views of the example site; each exercises one part of the WSGI contract."""
import hashlib
import json
import os
import tempfile

from django.http import FileResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

DEFAULT_STREAM_CHUNKS = 100
MAX_STREAM_CHUNKS = 100000
GENERATED_DOWNLOAD_SIZE = 1024 * 1024 + 123  # not a multiple of any block size


def stream_line(index):
    """One streamed line: the index and a digest of it, checkable on its own."""
    return "%06d %s\n" % (index, hashlib.sha256(str(index).encode()).hexdigest())


def download_path():
    """The file /download/ serves: $EXAMPLE_DOWNLOAD_FILE, else a deterministic generated one."""
    configured = os.environ.get("EXAMPLE_DOWNLOAD_FILE")
    if configured:
        return configured
    path = os.path.join(tempfile.gettempdir(), "wsgid-django-example-download.bin")
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


@require_safe
def index(request):
    return render(request, "examplesite/index.html")


@require_POST
def form_echo(request):
    """CSRF-protected (the middleware rejects a post without the form's token)."""
    fields = [(key, request.POST.getlist(key)) for key in request.POST
              if key != "csrfmiddlewaretoken"]
    return render(request, "examplesite/echo.html", {"fields": fields})


@csrf_exempt  # an API-style endpoint: clients post files without a browser session
@require_POST
def upload(request):
    uploaded = request.FILES.get("file")
    if uploaded is None:
        return JsonResponse({"error": "no file field in the request"}, status=400)
    digest = hashlib.sha256()
    size = 0
    for chunk in uploaded.chunks():
        digest.update(chunk)
        size += len(chunk)
    return JsonResponse({"filename": uploaded.name, "size": size,
                         "sha256": digest.hexdigest(),
                         "description": request.POST.get("description")})


@require_safe
def api_info(request):
    meta = request.META
    return JsonResponse({
        "method": request.method,
        "path": request.path,
        "path_info": request.path_info,
        "script_name": meta.get("SCRIPT_NAME", ""),
        "query": {key: request.GET.getlist(key) for key in request.GET},
        "host": request.get_host(),
        "wsgi_version": list(meta["wsgi.version"]),
        "multithread": meta["wsgi.multithread"],
        "multiprocess": meta["wsgi.multiprocess"],
        "pid": os.getpid(),
    })


@csrf_exempt
@require_POST
def api_echo(request):
    try:
        document = json.loads(request.body)
    except ValueError:
        return JsonResponse({"error": "request body is not JSON"}, status=400)
    return JsonResponse({"received": document, "content_type": request.content_type})


@require_safe
def stream(request):
    try:
        count = min(int(request.GET.get("chunks", DEFAULT_STREAM_CHUNKS)), MAX_STREAM_CHUNKS)
    except ValueError:
        count = DEFAULT_STREAM_CHUNKS

    def generate():
        for index in range(count):
            yield stream_line(index)
        yield "end %d\n" % count

    return StreamingHttpResponse(generate(), content_type="text/plain; charset=utf-8")


@require_safe
def download(request):
    # Django's WSGI handler passes FileResponse's file to environ["wsgi.file_wrapper"].
    # It does not strip the body of a HEAD response itself: the server must.
    return FileResponse(open(download_path(), "rb"), as_attachment=True,
                        filename="payload.bin", content_type="application/octet-stream")


@require_safe
def download_from(request):
    """Resumes a download at ?offset=N by seeking the file before handing it over.

    PEP 3333: a file wrapper's transmission starts at the file's current position, so the
    server must not send the file from its start."""
    try:
        offset = int(request.GET.get("offset", 0))
    except ValueError:
        offset = 0
    path = download_path()
    size = os.path.getsize(path)
    offset = max(0, min(offset, size))
    filelike = open(path, "rb")
    filelike.seek(offset)
    response = FileResponse(filelike, content_type="application/octet-stream")
    # FileResponse counts the whole file; only the rest of it is sent.
    response["Content-Length"] = str(size - offset)
    return response


@require_safe
def session_counter(request):
    """Counts this client's visits in its (signed cookie) session."""
    request.session["visits"] = request.session.get("visits", 0) + 1
    return JsonResponse({"visits": request.session["visits"]})


@require_safe
def error(request):
    raise RuntimeError("django example: intentional failure for the error-log test")
