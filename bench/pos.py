"""Box office: time per counter sale, from the tariff taps to the PDF of the
tickets ready to print, over consecutive sales at one terminal.

Starts a fresh database (tests/server.py) with a box office, its operator
and the catalogue's events, and a trytond server on it, as the terminal
talks to it. One operator logs in and opens the cash session, then makes
--sales consecutive sales over one keep-alive connection, as the terminal
does: the quote shown after the taps (POST /quote), then the sale with its
payments (POST /sales: hold, order, sale_point sale and payments in one
transaction), which answers the tickets' PDF for the 80 mm printer too
(print: thermal). With --pdf-request the PDF is asked for by a third
request (GET tickets.pdf), as the terminal did before.
Three sales in four are general admission (2 adults and a child, card and
cash with change), one in four a seat of a seated play, best available,
by card (a seat the isolated-seat rule refuses is counted and skipped).
The cash session is closed at the end (counts, posting of every
sale). Prints the time per sale (mean, median, p95, max) and per step.

Usage: .venv/bin/python bench/pos.py [--sales 200]
(GUICHET_PGDATA and GUICHET_PGPORT choose the PostgreSQL server.)
"""
import argparse
import base64
import os
import pathlib
import statistics
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.pos import POS, log_in, setup_pos  # noqa: E402
from tests.server import ApiServer  # noqa: E402

DATABASE = 'bench_pos'
# Its own template: the bench may run beside the test suite
TEMPLATE = 'bench_pos_template'


def percentile(values, fraction):
    values = sorted(values)
    return values[min(int(len(values) * fraction), len(values) - 1)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sales', type=int, default=200)
    parser.add_argument('--pdf-request', action='store_true',
        help="ask for the PDF by its own request after the sale")
    args = parser.parse_args()
    print("Starting a fresh database and trytond...", flush=True)
    with ApiServer(DATABASE, template=TEMPLATE) as server:
        ids = setup_pos(server)
        client = server.client
        auth = log_in(client)
        base = f'{POS}/points/{ids["point"]}'
        cash, card = ids['methods']['cash'], ids['methods']['card']

        def call(method, path, body=None, raw=False):
            reply = client.request(method, base + path, body=body,
                headers=auth)
            if reply.status >= 300:
                raise RuntimeError(repr(reply))
            return reply.raw if raw else reply.json
        call('POST', '/cash-session', {'float': '200.00'})
        print(f"load average at the start: {os.getloadavg()}", flush=True)
        ga = server.ids['sessions']['open']
        plays = ids['play_sessions']
        steps = {'quote': [], 'sale': [], 'pdf': []}
        totals = []
        refused = 0
        for index in range(args.sales):
            seated = index % 4 == 3
            if seated:
                session = plays[(index // 4) % 2]
                lines = [{'tariff': ids['seated']['Orchestre Plein'],
                        'session': session, 'quantity': 1}]
            else:
                lines = [
                    {'tariff': ids['tariffs']['adult'], 'session': ga,
                        'quantity': 2},
                    {'tariff': ids['tariffs']['child'], 'session': ga,
                        'quantity': 1}]
            start = time.perf_counter()
            quote = call('POST', '/quote', {'lines': lines})
            quoted = time.perf_counter()
            due = quote['to_pay']
            if seated:
                payments = [{'method': card, 'amount': due}]
            else:
                payments = [{'method': card, 'amount': '20.00'},
                    {'method': cash, 'amount': '50.00'}]
            body = {'lines': lines, 'payments': payments}
            if not args.pdf_request:
                body['print'] = 'thermal'
            reply = client.request('POST', base + '/sales', body=body,
                headers=auth)
            if reply.status == 409 and seated:
                # the isolated-seat rule: the operator sells another seat
                refused += 1
                continue
            if reply.status != 201:
                raise RuntimeError(repr(reply))
            sale = reply.json
            sold = time.perf_counter()
            if args.pdf_request:
                pdf = call('GET',
                    f'/orders/{sale["order"]["id"]}/tickets.pdf', raw=True)
            else:
                pdf = base64.b64decode(sale['tickets_pdf'])
            done = time.perf_counter()
            assert pdf.startswith(b'%PDF') and sale['order']['state'] == (
                'paid')
            steps['quote'].append(quoted - start)
            steps['sale'].append(sold - quoted)
            steps['pdf'].append(done - sold)
            totals.append(done - start)
        state = call('GET', '/cash-session')['session']
        counts = [{'method': e['method'], 'amount': e['amount']}
            for e in state['expected']]
        # posting every sale of the session may take longer than a sale
        client.close()
        client.timeout = 900
        start = time.perf_counter()
        call('POST', '/cash-session/close', {'counts': counts})
        print(f"seated sales refused by the isolated-seat rule: {refused}")
        closing = time.perf_counter() - start

    def ms(value):
        return f'{value * 1000:7.1f} ms'
    print(f"\n{len(totals)} consecutive sales at one terminal "
        "(taps -> payment -> tickets PDF ready), PDF "
        + ("by its own request" if args.pdf_request
            else "answered with the sale"))
    print(f"  load average at the end: {os.getloadavg()}")
    print(f"  per sale: mean {ms(statistics.mean(totals))}, median "
        f"{ms(statistics.median(totals))}, p95 "
        f"{ms(percentile(totals, 0.95))}, max {ms(max(totals))}")
    for name, values in steps.items():
        print(f"  {name:6s}: mean {ms(statistics.mean(values))}, median "
            f"{ms(statistics.median(values))}, p95 "
            f"{ms(percentile(values, 0.95))}")
    print(f"  closing the cash session ({len(totals)} sales posted): "
        f"{ms(closing)}")


if __name__ == '__main__':
    main()
