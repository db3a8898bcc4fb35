"""A local SMTP server that keeps every e-mail instead of sending it, with a
small web page to read them and download their attachments.

The demo sends the shop's e-mails here (`make demo` starts it); the tests
start one in their own process. Nothing leaves the machine.

Usage: python tools/smtp_catcher.py [--smtp-port 8025] [--http-port 8026]
    [--directory var/mail]
Then open http://127.0.0.1:8026/ (JSON list: /messages.json).
"""
import argparse
import email
import email.policy
import html
import http.server
import json
import pathlib
import socketserver
import sys
import threading
import time
import urllib.parse

ROOT = pathlib.Path(__file__).resolve().parent.parent
HOST = '127.0.0.1'
MAX_MESSAGE = 32 * 1024 * 1024


class Message:
    "A caught e-mail"

    def __init__(self, index, mail_from, recipients, data):
        self.index = index
        self.mail_from = mail_from
        self.recipients = recipients
        self.data = data
        self.received = time.time()
        self.message = email.message_from_bytes(
            data, policy=email.policy.default)

    @property
    def subject(self):
        return str(self.message['Subject'] or '')

    @property
    def to(self):
        return str(self.message['To'] or ', '.join(self.recipients))

    def text(self):
        body = self.message.get_body(('plain', 'html'))
        return body.get_content() if body else ''

    def attachments(self):
        "The (file name, content type, bytes) of the attachments"
        return [(part.get_filename() or f'part-{i}',
                part.get_content_type(), part.get_content())
            for i, part in enumerate(self.message.iter_attachments())]

    def json(self):
        return {
            'index': self.index,
            'from': self.mail_from,
            'to': self.to,
            'recipients': self.recipients,
            'subject': self.subject,
            'received': self.received,
            'text': self.text(),
            'attachments': [{'filename': n, 'content_type': t,
                    'size': len(c if isinstance(c, bytes) else c.encode())}
                for n, t, c in self.attachments()],
            }


class SMTPHandler(socketserver.StreamRequestHandler):
    "Just enough SMTP (RFC 5321) for smtplib: no relay, no authentication"
    timeout = 60

    def reply(self, line):
        self.wfile.write(line.encode() + b'\r\n')

    def handle(self):
        catcher = self.server.catcher
        self.reply(f'220 {HOST} Guichet SMTP catcher')
        mail_from, recipients = None, []
        while True:
            line = self.rfile.readline(4096)
            if not line:
                return
            command = line.decode('utf-8', 'replace').strip()
            verb = command[:4].upper()
            if verb in {'HELO', 'EHLO'}:
                if verb == 'EHLO':
                    self.reply(f'250-{HOST}')
                    self.reply('250-8BITMIME')
                    self.reply('250-SMTPUTF8')
                    self.reply(f'250 SIZE {MAX_MESSAGE}')
                else:
                    self.reply(f'250 {HOST}')
            elif verb == 'MAIL':
                mail_from = command.split(':', 1)[-1].split()[0].strip('<>')
                recipients = []
                self.reply('250 OK')
            elif verb == 'RCPT':
                recipients.append(
                    command.split(':', 1)[-1].split()[0].strip('<>'))
                self.reply('250 OK')
            elif verb == 'DATA':
                if not recipients:
                    self.reply('503 RCPT first')
                    continue
                self.reply('354 End data with <CR><LF>.<CR><LF>')
                data = self.read_data()
                if data is None:
                    self.reply('552 Message too large')
                else:
                    catcher.add(mail_from, recipients, data)
                    self.reply('250 OK: queued')
                mail_from, recipients = None, []
            elif verb == 'RSET':
                mail_from, recipients = None, []
                self.reply('250 OK')
            elif verb == 'NOOP':
                self.reply('250 OK')
            elif verb == 'QUIT':
                self.reply('221 Bye')
                return
            else:
                self.reply('502 Command not implemented')

    def read_data(self):
        lines, size = [], 0
        while True:
            line = self.rfile.readline(MAX_MESSAGE)
            if not line or line in {b'.\r\n', b'.\n'}:
                break
            if line.startswith(b'.'):
                line = line[1:]
            size += len(line)
            if size > MAX_MESSAGE:
                return None
            lines.append(line)
        return b''.join(lines)


class WebHandler(http.server.BaseHTTPRequestHandler):
    "The page of the caught e-mails"

    def log_message(self, *args):
        pass

    def send(self, body, content_type='text/html; charset=utf-8',
            status=200, headers=()):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(status)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        catcher = self.server.catcher
        path = urllib.parse.urlsplit(self.path).path
        parts = [p for p in path.split('/') if p]
        if path == '/messages.json':
            return self.send(json.dumps([m.json() for m in catcher.messages]),
                'application/json')
        if not parts:
            return self.send(self.index(catcher.messages))
        try:
            message = catcher.messages[int(parts[0])]
        except (ValueError, IndexError):
            return self.send('Not found', 'text/plain', 404)
        if len(parts) == 3 and parts[1] == 'attachment':
            try:
                name, kind, content = message.attachments()[int(parts[2])]
            except (ValueError, IndexError):
                return self.send('Not found', 'text/plain', 404)
            if isinstance(content, str):
                content = content.encode()
            return self.send(content, kind, headers=[('Content-Disposition',
                        'attachment; filename="%s"' % name.replace('"', ''))])
        if len(parts) == 2 and parts[1] == 'raw':
            return self.send(message.data, 'text/plain; charset=utf-8')
        return self.send(self.page(message))

    @staticmethod
    def layout(title, body):
        return ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width">'
            f'<title>{html.escape(title)}</title><style>body{{font-family:'
            'system-ui,sans-serif;max-width:60rem;margin:1rem auto;padding:'
            '0 1rem}td,th{text-align:left;padding:.3rem .6rem;border-bottom:'
            '1px solid #ccc}pre{white-space:pre-wrap;background:#f4f4f4;'
            f'padding:1rem}}</style></head><body>{body}</body></html>')

    def index(self, messages):
        rows = ''.join(
            f'<tr><td>{time.strftime("%H:%M:%S", time.localtime(m.received))}'
            f'</td><td>{html.escape(m.to)}</td><td><a href="/{m.index}">'
            f'{html.escape(m.subject) or "(no subject)"}</a></td>'
            f'<td>{len(m.attachments())}</td></tr>'
            for m in reversed(messages))
        return self.layout('Caught e-mails',
            '<h1>Caught e-mails</h1><p>Every e-mail the demo sends lands '
            'here; nothing leaves the machine.</p><table><thead><tr><th>'
            'Time</th><th>To</th><th>Subject</th><th>Attachments</th></tr>'
            f'</thead><tbody>{rows}</tbody></table>')

    def page(self, message):
        attachments = ''.join(
            f'<li><a href="/{message.index}/attachment/{i}">'
            f'{html.escape(name)}</a> ({html.escape(kind)}, '
            f'{len(content)} bytes)</li>'
            for i, (name, kind, content) in enumerate(message.attachments()))
        return self.layout(message.subject,
            f'<p><a href="/">← all e-mails</a></p><h1>'
            f'{html.escape(message.subject)}</h1><p>From: '
            f'{html.escape(message.mail_from or "")}<br>To: '
            f'{html.escape(message.to)}</p><ul>{attachments}</ul>'
            f'<pre>{html.escape(message.text())}</pre>'
            f'<p><a href="/{message.index}/raw">raw message</a></p>')


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


class _WebServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class SmtpCatcher:
    """The SMTP and web servers, in threads of this process.

        with SmtpCatcher() as catcher:          # free ports
            ... catcher.smtp_port ...
            catcher.wait_for(1)                 # the messages caught
    """

    def __init__(self, smtp_port=0, http_port=0, directory=None):
        self.messages = []
        self.directory = pathlib.Path(directory) if directory else None
        self._lock = threading.Condition()
        self.smtp = _Server((HOST, smtp_port), SMTPHandler)
        self.smtp.catcher = self
        self.web = _WebServer((HOST, http_port), WebHandler) if (
            http_port is not None) else None
        if self.web:
            self.web.catcher = self
        self.smtp_port = self.smtp.server_address[1]
        self.http_port = self.web.server_address[1] if self.web else None
        self._threads = []

    @property
    def uri(self):
        return f'smtp://{HOST}:{self.smtp_port}'

    def add(self, mail_from, recipients, data):
        with self._lock:
            message = Message(len(self.messages), mail_from, recipients, data)
            self.messages.append(message)
            if self.directory:
                self.directory.mkdir(parents=True, exist_ok=True)
                (self.directory / f'{int(message.received * 1000)}-'
                    f'{message.index}.eml').write_bytes(data)
            self._lock.notify_all()

    def wait_for(self, count, timeout=30, match=None):
        "Wait until count messages (matching match) are caught; return them"
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [m for m in self.messages if not match or match(m)]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"{len(found)} of {count} e-mails after {timeout} s")
                self._lock.wait(left)

    def start(self):
        for server in filter(None, [self.smtp, self.web]):
            thread = threading.Thread(target=server.serve_forever,
                daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self):
        for server in filter(None, [self.smtp, self.web]):
            server.shutdown()
            server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--smtp-port', type=int, default=8025)
    parser.add_argument('--http-port', type=int, default=8026)
    parser.add_argument('--directory', default=str(ROOT / 'var' / 'mail'))
    args = parser.parse_args()
    catcher = SmtpCatcher(args.smtp_port, args.http_port, args.directory)
    catcher.start()
    print(f"SMTP on {HOST}:{catcher.smtp_port}, e-mails on "
        f"http://{HOST}:{catcher.http_port}/", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        catcher.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
