from trytond.model.exceptions import AccessError
from trytond.model.modelview import AccessButtonError
from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction, check_access

from .helpers import create_event, reserve, sell


class AccessTestMixin:
    "Who sees and changes what: record rules per company and groups"

    @with_transaction()
    def test_record_rules_per_company(self):
        "A user of a company sees none of another company's ticketing"
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        company_a = create_company("Théâtre A")
        company_b = create_company("Théâtre B", currency=company_a.currency)
        with set_company(company_a):
            event_a, (session_a,) = create_event(company_a, (10,))
            order_a = sell(session_a, 1)
            reserve(session_a, 1)
        with set_company(company_b):
            event_b, (session_b,) = create_event(company_b, (10,))
            order_b = sell(session_b, 1)
        user_b, = User.create([{
                    'name': "Box office B", 'login': 'box_b',
                    'companies': [('add', [company_b.id])],
                    'company': company_b.id,
                    'groups': [('add', [ModelData.get_id(
                                    'ticket_event', 'group_ticket_admin')])],
                    }])

        with Transaction().set_user(user_b.id), \
                Transaction().set_context(
                    User.get_preferences(context_only=True)), \
                check_access():
            for model, record_b in [
                    ('ticket.venue', event_b.venue),
                    ('ticket.event', event_b),
                    ('ticket.session', session_b),
                    ('ticket.pool', session_b.pool),
                    ('ticket.order', order_b),
                    ('ticket.ticket', order_b.tickets[0]),
                    ('ticket.hold', order_b.holds[0]),
                    ]:
                with self.subTest(model=model):
                    Model = pool.get(model)
                    self.assertEqual(
                        Model.search([]), [Model(record_b.id)])
            Event = pool.get('ticket.event')
            Order = pool.get('ticket.order')
            with self.assertRaises(AccessError):
                Event.read([event_a.id], ['name'])
            with self.assertRaises(AccessError):
                Order.read([order_a.id], ['number'])
            with self.assertRaises(AccessError):
                Order.pay([Order(order_a.id)])
            TicketReport = pool.get('ticket.order.tickets', type='report')
            with self.assertRaises(AccessError):
                TicketReport.execute([order_a.id], {})
            self.assertEqual(
                TicketReport.execute([order_b.id], {})[0], 'pdf')

    @with_transaction()
    def test_box_office_group(self):
        "The box office sells but cannot change events"
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        Event = pool.get('ticket.event')
        Session = pool.get('ticket.session')
        CapacityPool = pool.get('ticket.pool')
        Order = pool.get('ticket.order')
        Hold = pool.get('ticket.hold')
        company = create_company()
        with set_company(company):
            event, (session,) = create_event(
                company, (10,), visibility=['box_office'])
        user, = User.create([{
                    'name': "Cashier", 'login': 'cashier',
                    'companies': [('add', [company.id])],
                    'company': company.id,
                    'groups': [('add', [ModelData.get_id(
                                    'ticket_event',
                                    'group_ticket_box_office')])],
                    }])

        with Transaction().set_user(user.id), \
                Transaction().set_context(
                    User.get_preferences(context_only=True)), \
                check_access():
            with self.assertRaises(AccessError):
                Event.write([Event(event.id)], {'name': "Changed"})
            with self.assertRaises(AccessError):
                Event.create([{'name': "New", 'venue': event.venue.id}])
            with self.assertRaises(AccessError):
                Session.write([Session(session.id)], {'capacity': 100})
            with self.assertRaises(AccessError):
                CapacityPool.write(
                    [CapacityPool(session.pool.id)], {'capacity': 100})
            with self.assertRaises(AccessButtonError):
                Event.publish([Event(event.id)])
            with self.assertRaises(AccessButtonError):
                Session.close([Session(session.id)])

            session = Session(session.id)
            hold = Hold.reserve(
                [{'session': session, 'quantity': 2}],
                channel='box_office')
            Hold.release([Hold.reserve(
                        [{'session': session, 'quantity': 1}],
                        channel='box_office')])
            order = Order.create_from_holds([hold])
            Order.pay([order])
            order = Order(order.id)
            self.assertEqual(order.state, 'paid')
            self.assertEqual(order.user, user)
            self.assertEqual(len(order.tickets), 2)
            self.assertEqual(Session(session.id).sold, 2)

        self.assertEqual(Event(event.id).name, "Concert")
