"""A small on-sale rush and its faults against serve-prod's processes
(gunicorn with 2 workers, trytond-cron, trytond-worker) on real PostgreSQL
over real HTTP — the full rush is ``python -m tests.load.rush``.

- 200 buyers for 100 places and 100 seats: nothing sold twice, counters
  equal allocations and tickets, every paid order has its tickets and one
  payment, every refusal a 4xx with a code and a message;
- 150 buyers for 80 places and 75 seats while an application process is
  killed with SIGKILL and every database connection is terminated: after
  the restart and the expiry cron, no paid order lost, nothing held, counts
  exact;
- a payment notification replayed 3 times at once, and again after the
  order expired (out of order): one payment, tickets issued once.
"""
import threading
import unittest
from concurrent.futures import ThreadPoolExecutor

from tests.load.checkout import ApiCheckout
from tests.load.rush import RushServer, parser, report, rush, verify

SERVER = None
CLIENTS = 16


def setUpModule():
    global SERVER
    SERVER = RushServer('test_prod_rush', places=100, rows=4,
        seats_per_row=25)
    SERVER.start()
    unittest.addModuleCleanup(SERVER.stop)


class RushTestCase(unittest.TestCase):

    def run_rush(self, buyers, places, rows, faults=False):
        if SERVER.sale['places'] != places or (
                SERVER.sale['seats'] != rows * 25):
            SERVER.new_sale(places, rows, 25)
        outcome, elapsed, log = rush(SERVER, buyers, CLIENTS, faults)
        if faults:
            SERVER.restart_trytond()
        SERVER.run_expiry_cron()
        figures, problems = verify(SERVER, outcome)
        args = parser().parse_args(['--buyers', str(buyers), '--places',
                str(places), '--rows', str(rows), '--clients', str(CLIENTS)]
            + (['--faults'] if faults else []))
        args.sale = SERVER.sale
        conflicts = report(args, outcome, elapsed, figures, problems, log)
        self.assertEqual(conflicts, 0, problems)
        self.assertEqual(outcome.unclear, [])
        self.assertTrue(outcome.paid)
        self.assertEqual(figures['paid_orders'], len(outcome.paid))
        # demand is about 2.5 times the supply: buyers are refused
        codes = {k.split(':')[1] for k in outcome.refusals}
        self.assertTrue(codes & {'capacity_exceeded', 'seats_unavailable',
                'isolated_seat'}, outcome.refusals)
        for session, capacity in [(SERVER.sale['ga'], places),
                (SERVER.sale['seated'], rows * 25)]:
            total, sold, held, tickets = figures[session]
            self.assertEqual((total, held), (capacity, 0))
            self.assertEqual(sold, tickets)
            self.assertGreater(sold, capacity // 2)
        return outcome, log

    def test_rush(self):
        self.run_rush(200, 100, 4)

    def test_rush_with_faults(self):
        outcome, log = self.run_rush(150, 80, 3, faults=True)
        self.assertEqual(len(log), 2, log)
        self.assertIn('SIGKILL', log[0])
        self.assertIn('pg_terminate_backend', log[1])

    def order(self, checkout, quantity=2, number=0):
        sale = SERVER.sale
        cart = checkout.cart(sale['ga'], sale['ga_tariff'], quantity)
        self.assertEqual(cart.status, 201, cart.json)
        order = checkout.order(cart.json['hold']['token'], "Replay",
            f'replay{number}@example.org')
        self.assertEqual(order.status, 201, order.json)
        return order.json

    def payments(self, number):
        return SERVER.sql("SELECT p.reference, p.state, p.amount "
            "FROM ticket_order_payment p JOIN ticket_order o "
            "ON p.\"order\" = o.id WHERE o.number = %s", (number,))

    def tickets(self, number):
        return SERVER.sql("SELECT count(*) FROM ticket_ticket t "
            "JOIN ticket_order o ON t.\"order\" = o.id "
            "WHERE o.number = %s", (number,))[0][0]

    def test_payment_notification_replayed(self):
        "3 notifications at once, then late and out of order: one payment"
        checkout = ApiCheckout(SERVER.port, SERVER.database)
        self.addCleanup(checkout.close)
        SERVER.new_sale(20, 1, 25)
        order = self.order(checkout, 2, 1)
        start = threading.Barrier(3)

        def notify(_):
            start.wait()
            try:
                return checkout.pay(order['number'], 'PSP-REPLAY',
                    order['to_pay'])
            finally:
                checkout.close()
        with ThreadPoolExecutor(3) as executor:
            answers = list(executor.map(notify, range(3)))
        self.assertEqual([a.status for a in answers], [200] * 3,
            [a.json for a in answers])
        self.assertEqual(sorted(a.json['new'] for a in answers),
            [False, False, True])
        self.assertEqual({a.json['payment'] for a in answers},
            {answers[0].json['payment']})
        self.assertEqual({a.json['state'] for a in answers}, {'paid'})
        self.assertEqual(len(self.payments(order['number'])), 1)
        self.assertEqual(self.tickets(order['number']), 2)

        # The order expires before its notification arrives, which then
        # comes three times: the order takes its places again, is paid
        # once, its tickets issued once
        late = self.order(checkout, 3, 2)
        SERVER.run_expiry_cron()
        self.assertEqual(SERVER.sql("SELECT state FROM ticket_order "
                "WHERE number = %s", (late['number'],)), [('expired',)])
        for _ in range(3):
            answer = checkout.pay(late['number'], 'PSP-LATE', late['to_pay'])
            self.assertEqual(answer.status, 200, answer.json)
            self.assertEqual(answer.json['state'], 'paid')
        self.assertEqual(len(self.payments(late['number'])), 1)
        self.assertEqual(self.tickets(late['number']), 3)
        # the first order's notification once more, after all that
        again = checkout.pay(order['number'], 'PSP-REPLAY', order['to_pay'])
        self.assertEqual((again.status, again.json['new']), (200, False))
        self.assertEqual(len(self.payments(order['number'])), 1)
        self.assertEqual(self.tickets(order['number']), 2)
        # counters still exact
        outcome = type('Outcome', (), {'paid': {}, 'unclear': []})()
        figures, problems = verify(SERVER, outcome)
        self.assertEqual(problems, [])
        self.assertEqual(figures['paid_orders'], 2)
        self.assertEqual(figures[SERVER.sale['ga']][1:], (5, 0, 5))


if __name__ == '__main__':
    unittest.main()
