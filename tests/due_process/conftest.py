"""Fixtures for the due-process tests: clean appeal limits, code mails read from the outbox, and
a real (tiny) SMTP server on a local socket that answers as a mail server would."""

import socketserver
import threading

import pytest


@pytest.fixture(autouse=True)
def _due_process(codes_mailed_in_process):
    yield


class SMTPHandler(socketserver.StreamRequestHandler):
    def say(self, line):
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self):
        self.say("220 test ESMTP")
        while line := self.rfile.readline():
            command = line.decode(errors="replace").strip().upper()
            if command.startswith(("EHLO", "HELO")):
                self.say("250 test")
            elif command.startswith("MAIL FROM"):
                self.say("250 ok")
            elif command.startswith("RCPT TO"):
                self.server.rcpts.append(command)
                self.say(self.server.rcpt_answer)
            elif command == "DATA":
                self.say("354 go on")
                while self.rfile.readline() not in (b".\r\n", b""):
                    pass
                self.say("250 queued")
            elif command == "QUIT":
                self.say("221 bye")
                return
            else:
                self.say("250 ok")


@pytest.fixture
def smtp(settings):
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), SMTPHandler)
    server.daemon_threads = True
    server.rcpts, server.rcpt_answer = [], "250 ok"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", server.server_address[1], False
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.shutdown()
    server.server_close()
