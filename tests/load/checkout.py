"""How a simulated buyer buys through the JSON API: cart (GA) or seat hold,
order, payment. Every step is one HTTP request; a dropped connection (a
process killed, a proxy restarting) or a 503 busy is tried again, as a
browser's shop page would.

``ApiCheckout`` uses the public API (``POST /carts``,
``POST /sessions/{id}/seats/holds``, ``POST /orders``) and pays through the
simulated provider of ``webhook.py`` (``Payment.record``, as the shop's
providers do). The shop's HTML pages under a rush are bench/shop.py's.
"""
import http.client
import json
import threading
import time

from tests.server import API, HOST

RETRIES = 8
PAYMENTS = '/ticket/loadtest/payments'


class Answer:
    def __init__(self, status, body, retried, seconds):
        self.status = status
        self.json = body
        self.retried = retried
        self.retries = len(retried)
        self.seconds = seconds

    @property
    def code(self):
        if isinstance(self.json, dict) and 'error' in self.json:
            return self.json['error'].get('code')
        return None

    @property
    def clear_refusal(self):
        "A 4xx with a JSON error code and a message"
        return (400 <= self.status < 500 and isinstance(self.json, dict)
            and bool(self.json.get('error', {}).get('code'))
            and bool(str(self.json['error'].get('message', '')).strip()))


class ApiCheckout:
    "A buyer's HTTP session: one keep-alive connection per thread"

    def __init__(self, port, database, timeout=120):
        self.port = port
        self.database = database
        self.timeout = timeout
        self._local = threading.local()

    def _connection(self):
        connection = getattr(self._local, 'connection', None)
        if connection is None:
            connection = self._local.connection = (
                http.client.HTTPConnection(HOST, self.port,
                    timeout=self.timeout))
        return connection

    def close(self):
        connection = getattr(self._local, 'connection', None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    def post(self, path, body, retry_on=()):
        """POST body; try again on a dropped connection, a 502/503 and the
        statuses of retry_on; return the Answer"""
        data = json.dumps(body).encode()
        url = f'/{self.database}{path}'
        retried = []
        began = time.perf_counter()
        while True:
            try:
                connection = self._connection()
                connection.request('POST', url, body=data, headers={
                        'Content-Type': 'application/json'})
                response = connection.getresponse()
                raw = response.read()
                status = response.status
                if response.getheader('Connection', '').lower() == 'close':
                    self.close()
            except (OSError, http.client.HTTPException):
                self.close()
                status, raw = None, b''
            if (status is None or status in {502, 503}
                    or status in retry_on) and len(retried) < RETRIES:
                retried.append(str(status or 'dropped connection'))
                time.sleep(min(0.05 * 2 ** len(retried), 1.0))
                continue
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = None
            return Answer(status, parsed, retried,
                time.perf_counter() - began)

    def cart(self, session, tariff, quantity):
        return self.post(f'{API}/carts', {'lines': [{
                        'session': session, 'tariff': tariff,
                        'quantity': quantity}]})

    def seats(self, session, quantity):
        return self.post(f'{API}/sessions/{session}/seats/holds',
            {'quantity': quantity})

    def order(self, token, name, email):
        return self.post(f'{API}/orders', {'holds': [token],
                'buyer': {'name': name, 'email': email}})

    def pay(self, number, reference, amount):
        "The provider's notification that the order was paid"
        return self.post(PAYMENTS, {'order': number, 'reference': reference,
                'amount': amount})
