"""A real SMTP server for the tests: it accepts every message on a local
port and keeps them (``Sink.messages``) as email.message objects."""
import email
import email.policy
import socketserver
import threading


class _Handler(socketserver.StreamRequestHandler):
    def reply(self, line):
        self.wfile.write(line.encode() + b'\r\n')

    def handle(self):
        self.reply('220 sink ESMTP')
        recipients = []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            command = line.decode('utf-8', 'replace').strip()
            verb = command[:4].upper()
            if verb in {'EHLO', 'HELO'}:
                self.reply('250 sink')
            elif verb == 'MAIL':
                recipients = []
                self.reply('250 OK')
            elif verb == 'RCPT':
                recipients.append(command.split(':', 1)[1].strip(' <>'))
                self.reply('250 OK')
            elif verb == 'DATA':
                self.reply('354 End data with <CR><LF>.<CR><LF>')
                data = []
                while True:
                    line = self.rfile.readline()
                    if line in {b'.\r\n', b'.\n', b''}:
                        break
                    data.append(line[1:] if line.startswith(b'..')
                        else line)
                message = email.message_from_bytes(
                    b''.join(data), policy=email.policy.default)
                self.server.sink.messages.append(message)
                self.reply('250 OK queued')
            elif verb == 'QUIT':
                self.reply('221 Bye')
                return
            else:
                self.reply('250 OK')


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


class Sink:
    "An SMTP server on 127.0.0.1 in a thread; use as a context manager"

    def __init__(self):
        self.messages = []
        self.server = _Server(('127.0.0.1', 0), _Handler)
        self.server.sink = self
        self.port = self.server.server_address[1]
        self.uri = f'smtp://127.0.0.1:{self.port}'

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever,
            daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def to(self):
        "The recipients of the messages received, in order"
        return [str(m['To']) for m in self.messages]
