"""One loopback port for headsets and planners: the WebXR page over HTTP and JSON messages over WebSocket.

``GET /`` serves the WebXR page (:mod:`sonic_deploy.teleop.web`), ``/ws`` upgrades to a WebSocket. Messages
(JSON objects, one per WebSocket message):

* a pose sample (``{"type": "pose", ...}``, or any object with ``"head"``; see :mod:`sonic_deploy.inputs.vr_poses`) -> the teleop input;
* ``{"type": "calibrate"}`` -> the teleop input zeroes on the next sample;
* ``{"type": "motion", ...}`` (see :mod:`sonic_deploy.inputs.motion_stream`) -> the motion-stream input;
* ``{"type": "tokens", "tokens": [...]}`` or ``"codes"`` (see :mod:`sonic_deploy.inputs.token_stream`) -> the token input;
* ``{"type": "command", ...}`` -> ``on_command(msg)`` (e.g. the node's motion commands);
* ``{"type": "hello"}`` -> a reply naming the server and the inputs it feeds.
Adding ``"ack": <id>`` to any message makes the server answer ``{"type": "ack", "ack": <id>}`` once the sample
is in the input (used for lock-step replays and latency measurement). A malformed message is answered with
``{"type": "error", "error": "..."}`` naming the field; the connection stays open.

Arrival times are taken from ``clock`` (the controller's clock: monotonic on hardware, simulated time in
sim-to-sim). The server runs its asyncio loop on a daemon thread; ``start()`` returns once it listens.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from importlib import resources

from websockets.asyncio.server import serve
from websockets.datastructures import Headers
from websockets.http11 import Response

from sonic_deploy.inputs.vr_poses import PoseFormatError, parse_pose_message


def page_html() -> bytes:
    return resources.files("sonic_deploy.teleop.web").joinpath("index.html").read_bytes()


@dataclass
class ServerStats:
    messages: int = 0
    poses: int = 0
    motion_frames: int = 0
    token_messages: int = 0
    errors: int = 0
    connections: int = 0
    last_error: str = ""
    clients: set = field(default_factory=set)


class StreamServer:
    def __init__(self, *, host: str = "127.0.0.1", port: int = 8765, teleop=None, motion=None, on_command=None,
                 clock=time.monotonic, default_frame: str = "webxr", tokens=None):
        self.tokens = tokens
        self.host, self.port = host, port
        self.teleop, self.motion, self.on_command = teleop, motion, on_command
        self.clock = clock
        self.default_frame = default_frame
        self.stats = ServerStats()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/ws"

    # --- HTTP -----------------------------------------------------------------------------------------
    def _http(self, connection, request):
        path = request.path.split("?", 1)[0]
        if path == "/ws":
            return None
        if path in ("/", "/index.html"):
            body, ctype = page_html(), "text/html; charset=utf-8"
        elif path == "/healthz":
            body, ctype = b"ok\n", "text/plain"
        else:
            body, ctype = b"not found\n", "text/plain"
            return Response(HTTPStatus.NOT_FOUND.value, "Not Found",
                            Headers([("Content-Type", ctype), ("Content-Length", str(len(body)))]), body)
        headers = Headers([("Content-Type", ctype), ("Content-Length", str(len(body))), ("Cache-Control", "no-store")])
        return Response(HTTPStatus.OK.value, "OK", headers, body)

    # --- messages -------------------------------------------------------------------------------------
    def handle(self, msg) -> dict | None:
        """Route one decoded message; returns the reply (or None). Also usable without a socket."""
        self.stats.messages += 1
        if not isinstance(msg, dict):
            raise PoseFormatError(f"message: expected a JSON object, got {type(msg).__name__}")
        kind = msg.get("type", "pose" if "head" in msg else None)
        if kind == "pose":
            if self.teleop is None:
                raise PoseFormatError("field 'type': this server has no teleop input")
            self.teleop.push(parse_pose_message(msg, self.default_frame), self.clock())
            self.stats.poses += 1
        elif kind == "calibrate":
            if self.teleop is None:
                raise PoseFormatError("field 'type': this server has no teleop input")
            self.teleop.request_calibration()
        elif kind == "motion":
            if self.motion is None:
                raise PoseFormatError("field 'type': this server has no motion-stream input")
            self.motion.push_message(msg, self.clock())
            self.stats.motion_frames += 1
        elif kind == "tokens":
            if self.tokens is None:
                raise PoseFormatError("field 'type': this server has no token input")
            self.tokens.push_message(msg, self.clock())
            self.stats.token_messages += 1
        elif kind == "command":
            if self.on_command is None:
                raise PoseFormatError("field 'type': this server takes no commands")
            self.on_command(msg)
        elif kind == "hello":
            return {"type": "hello", "server": "sonic", "teleop": self.teleop is not None,
                    "motion": self.motion is not None, "tokens": self.tokens is not None}
        else:
            raise PoseFormatError(f"field 'type': expected pose, calibrate, motion, tokens, command or hello, got {kind!r}")
        if "ack" in msg:
            return {"type": "ack", "ack": msg["ack"]}
        return None

    async def _ws(self, websocket):
        self.stats.connections += 1
        async for raw in websocket:
            try:
                reply = self.handle(json.loads(raw))
            except (ValueError, TypeError) as exc:  # JSONDecodeError and PoseFormatError are ValueErrors
                self.stats.errors += 1
                self.stats.last_error = str(exc)
                reply = {"type": "error", "error": str(exc)}
            if reply is not None:
                await websocket.send(json.dumps(reply))

    # --- lifecycle ------------------------------------------------------------------------------------
    async def _main(self):
        self._stop = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        async with serve(self._ws, self.host, self.port, process_request=self._http, max_size=2**22,
                         compression=None) as server:
            self.port = server.sockets[0].getsockname()[1]  # port 0: the OS picks one
            self._ready.set()
            await self._stop.wait()

    def _run(self):
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # noqa: BLE001 - reported by start()
            self._error = exc
            self._ready.set()

    def start(self, timeout: float = 5.0) -> "StreamServer":
        self._thread = threading.Thread(target=self._run, name="sonic-stream-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout) or self._error is not None:
            raise RuntimeError(f"stream server on {self.host}:{self.port} did not start: {self._error}")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(timeout=5.0)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
