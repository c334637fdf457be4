"""Berth's Python worker: runs one scoring script (``init()`` once, then ``run(raw)`` per request).

Started by the Node scoring server (src/serving/runtimes/python), one process per worker, as
``python berth_worker.py '<json config>'`` with the entry script's settings; the served models
are in ``BERTH_MODELS``. Requests arrive on fd 3 and answers leave on fd 4 as frames
``[u32 big-endian length of what follows][u8 kind][payload]``, so any bytes go through and
Python's own stdout/stderr stay free for the script's prints (Node logs them line by line).

Node -> worker: ``S`` run with the payload decoded as UTF-8 text (what the client posted),
``B`` run with the payload as bytes (``application/octet-stream``), ``Q`` quit.
Worker -> Node: ``R`` ready (JSON: python version, schemas), ``F`` init failed (JSON: code,
message, traceback), ``O`` result (JSON bytes), ``E`` run failed (JSON: code, message, traceback).

One request at a time. An exception in ``run`` answers ``E`` and the worker goes on;
``sys.exit`` in ``run`` answers ``E`` and ends the worker (Node starts a new one).
"""
import importlib.util
import inspect
import json
import os
import signal
import sys
import traceback

KIND_TEXT = ord("S")
KIND_BYTES = ord("B")
KIND_QUIT = ord("Q")
KIND_READY = ord("R")
KIND_INIT_FAILED = ord("F")
KIND_RESULT = ord("O")
KIND_ERROR = ord("E")


class BadRequest(Exception):
    """The request does not fit what run expects (answered as 400)."""


def _die_with_parent():
    """Linux: the kernel kills this worker when the Node process that started it dies."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
        if os.getppid() == 1:
            os._exit(1)
    except Exception:
        pass


class Channel(object):
    def __init__(self, read_fd, write_fd):
        for fd in (read_fd, write_fd):
            os.set_inheritable(fd, False)
        self.rx = open(read_fd, "rb", buffering=1 << 16)
        self.tx = open(write_fd, "wb", buffering=1 << 16)

    def receive(self):
        """(kind, payload), or None when Node closed the channel."""
        header = self.rx.read(5)
        if len(header) < 5:
            return None
        length = int.from_bytes(header[:4], "big")
        payload = self.rx.read(length - 1) if length > 1 else b""
        if len(payload) < length - 1:
            return None
        return header[4], payload

    def send(self, kind, payload):
        self.tx.write((len(payload) + 1).to_bytes(4, "big") + bytes((kind,)))
        self.tx.write(payload)
        self.tx.flush()

    def send_json(self, kind, value):
        self.send(kind, json.dumps(value).encode("utf-8"))


def _load_entry_script(path):
    stem = os.path.splitext(os.path.basename(path))[0]
    name = stem if stem.isidentifier() and stem not in sys.modules else "berth_entry_script"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError("cannot load %s as a Python module" % path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _describe(exc):
    text = str(exc)
    return "%s: %s" % (type(exc).__name__, text) if text else type(exc).__name__


class RunCall(object):
    """How to call the script's run: ``run(raw)``, or ``run(**json_body)`` when it has input_schema decorators."""

    def __init__(self, run):
        self.run = run
        self.params = getattr(run, "__berth_input_params__", None) or {}
        target = run
        while hasattr(target, "__wrapped__"):
            target = target.__wrapped__
        try:
            parameters = inspect.signature(target).parameters
        except (TypeError, ValueError):
            parameters = {}
        self.names = [n for n, p in parameters.items() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        self.takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
        self.required = [
            n for n, p in parameters.items()
            if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        ]

    def __call__(self, raw):
        if not self.params:
            return self.run(raw)
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise BadRequest("The request body is not valid JSON: %s" % exc)
        if not isinstance(body, dict):
            raise BadRequest(
                "The request body must be a JSON object with the field(s) %s." % ", ".join(sorted(self.params))
            )
        if not self.takes_kwargs:
            unknown = [k for k in body if k not in self.names]
            if unknown:
                raise BadRequest(
                    "Unknown field(s) %s in the request body; run accepts %s."
                    % (", ".join(sorted(unknown)), ", ".join(self.names))
                )
        missing = [n for n in self.required if n not in body]
        if missing:
            raise BadRequest("The request body lacks the field(s) %s." % ", ".join(missing))
        return self.run(**body)


def _schemas(run):
    if not getattr(run, "__berth_input_params__", None) and not hasattr(run, "__berth_output_type__"):
        return {}
    try:
        from inference_schema import schema_decorators

        schemas = {}
        input_schema = schema_decorators.get_input_schema(run)
        output_schema = schema_decorators.get_output_schema(run)
        if input_schema is not None:
            schemas["input"] = input_schema
        if output_schema is not None:
            schemas["output"] = output_schema
        return schemas
    except Exception as exc:
        sys.stderr.write("berth: could not build the schema from the inference_schema decorators: %s\n" % _describe(exc))
        return {}


def _start(config, channel):
    """Loads the script and runs init(); returns the RunCall, or None after answering F."""
    path = config["entryScript"]
    try:
        module = _load_entry_script(path)
    except SyntaxError as exc:
        channel.send_json(KIND_INIT_FAILED, {
            "code": "ENTRY_SCRIPT_INVALID",
            "message": "%s has a syntax error: %s" % (os.path.basename(path), _describe(exc)),
            "traceback": traceback.format_exc(),
        })
        return None
    except BaseException as exc:
        channel.send_json(KIND_INIT_FAILED, {
            "code": "INIT_FAILED",
            "message": "Importing %s failed: %s" % (os.path.basename(path), _describe(exc)),
            "traceback": traceback.format_exc(),
            "missingModule": getattr(exc, "name", None) if isinstance(exc, ImportError) else None,
        })
        return None
    lacking = [f for f in ("init", "run") if not callable(getattr(module, f, None))]
    if lacking:
        channel.send_json(KIND_INIT_FAILED, {
            "code": "ENTRY_SCRIPT_INVALID",
            "message": "%s has no %s() function; a scoring script defines init() and run(raw)."
            % (os.path.basename(path), " or ".join(lacking)),
        })
        return None
    try:
        module.init()
    except BaseException as exc:
        what = "called sys.exit(%s)" % (exc.code,) if isinstance(exc, SystemExit) else "raised " + _describe(exc)
        channel.send_json(KIND_INIT_FAILED, {
            "code": "INIT_FAILED",
            "message": "init() in %s %s" % (os.path.basename(path), what),
            "traceback": traceback.format_exc(),
            "missingModule": getattr(exc, "name", None) if isinstance(exc, ImportError) else None,
        })
        return None
    run = RunCall(module.run)
    channel.send_json(KIND_READY, {
        "python": sys.version.split()[0],
        "pid": os.getpid(),
        "schema": _schemas(module.run),
    })
    return run


def _serve(channel, run, to_json_bytes):
    while True:
        frame = channel.receive()
        if frame is None:
            return 0
        kind, payload = frame
        if kind == KIND_QUIT:
            return 0
        raw = payload.decode("utf-8", errors="replace") if kind == KIND_TEXT else payload
        try:
            result = run(raw)
        except BadRequest as exc:
            channel.send_json(KIND_ERROR, {"code": "BAD_REQUEST", "message": str(exc)})
            continue
        except SystemExit as exc:
            channel.send_json(KIND_ERROR, {
                "code": "SCORING_FAILED",
                "message": "run() called sys.exit(%s); the Python worker stops and is replaced." % (exc.code,),
                "fatal": True,
            })
            raise
        except Exception as exc:
            if type(exc).__name__ == "InputConversionError":  # the request did not fit input_schema
                channel.send_json(KIND_ERROR, {"code": "BAD_REQUEST", "message": str(exc)})
            else:
                channel.send_json(KIND_ERROR, {
                    "code": "SCORING_FAILED",
                    "message": "run() raised " + _describe(exc),
                    "traceback": traceback.format_exc(),
                })
            continue
        try:
            body = to_json_bytes(result)
        except Exception as exc:
            channel.send_json(KIND_ERROR, {
                "code": "SCORING_FAILED",
                "message": "run() returned a value that cannot be turned into JSON: %s" % _describe(exc),
            })
            continue
        channel.send(KIND_RESULT, body)


def main():
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches Node, which drains, then stops us
    _die_with_parent()
    config = json.loads(sys.argv[1])
    here = os.path.dirname(os.path.abspath(__file__))
    script_dir = os.path.dirname(os.path.abspath(config["entryScript"]))
    for folder in (here, config.get("sourceDirectory"), script_dir):
        if folder and folder not in sys.path:
            sys.path.insert(0, folder)

    import berth_sklearn_compat
    from berth_json import to_json_bytes

    berth_sklearn_compat.install()
    channel = Channel(3, 4)
    run = _start(config, channel)
    if run is None:
        return 1
    return _serve(channel, run, to_json_bytes)


if __name__ == "__main__":
    sys.exit(main())
