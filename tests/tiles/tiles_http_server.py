#!/usr/bin/env python3
"""Test HTTP server for the 3D Tiles loader (tests/tiles/test_tiles_http.c).

usage: tiles_http_server.py ROOT_DIR CONTROL_DIR

Serves ROOT_DIR on 127.0.0.1 with an ephemeral port and prints "PORT PID" on
stdout. Behaviour is switched by files in CONTROL_DIR (checked per request):
  healthy  -> every file is served normally
  slow     -> every .b3dm waits 20 s before answering (cancellation test)
  (neither) -> faulty: ul.b3dm 404, ur.b3dm 500, lr.b3dm answers after 3 s,
               ll.b3dm sends half its Content-Length then closes.
Each request is logged to CONTROL_DIR/requests.log as
"PATH?QUERY\tX-Token\tAccept-Encoding". The server exits after 120 s.
"""
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT, CTRL = sys.argv[1], sys.argv[2]
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        path, _, query = self.path.partition("?")
        with LOCK:
            with open(os.path.join(CTRL, "requests.log"), "a") as f:
                f.write("%s?%s\t%s\t%s\n" % (path, query, self.headers.get("X-Token", ""),
                                              self.headers.get("Accept-Encoding", "")))
        local = os.path.realpath(os.path.join(ROOT, path.lstrip("/")))
        if not local.startswith(os.path.realpath(ROOT)) or not os.path.isfile(local):
            return self.send_error(404)
        with open(local, "rb") as f:
            body = f.read()
        name = os.path.basename(local)
        healthy = os.path.exists(os.path.join(CTRL, "healthy"))
        slow = os.path.exists(os.path.join(CTRL, "slow"))
        if slow and name.endswith(".b3dm"):
            time.sleep(20)
        elif not healthy and not slow:
            if name == "ul.b3dm":
                return self.send_error(404)
            if name == "ur.b3dm":
                return self.send_error(500)
            if name == "lr.b3dm":
                time.sleep(3)
            if name == "ll.b3dm":
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print("%d %d" % (server.server_address[1], os.getpid()), flush=True)
    threading.Timer(120, server.shutdown).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
