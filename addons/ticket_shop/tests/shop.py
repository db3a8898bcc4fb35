"Tests of the shop's services: checkout, questions, refunds, late payments."
import datetime as dt
import os
import tempfile
import time
from decimal import Decimal
from unittest.mock import patch

from trytond.config import config
from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from guichet.ticket_event.common import now
from guichet.ticket_event.tests.helpers import (
    counts, create_event, pdf_pages, pdf_text)
from guichet.ticket_pricing.tests.helpers import (
    create_accounts, create_product, create_tariff, create_tax)

from ..checkout import (
    CheckoutErrors, add_to_cart, checkout_form, place_order, quote_holds)
from ..demo import setup_event, setup_organizer
from ..exceptions import AnswerError, ShopError
from ..ir import HostLoad
from ..mail import calendar, order_message
from ..organizer import checkout_settings
from ..question import event_questions


class Files(dict):
    "The uploaded files of a form: none"


def catalogue(company, capacity=10, days=40):
    """An event in days with one session of capacity, tariffs Adult 20.00
    and Child 10.00 (5.5 % VAT), the organizer's profile and methods"""
    accounts = create_accounts(company)
    vat = create_tax(company, '0.055', accounts)
    product = create_product(company, "Show", [vat], accounts)
    start = (now() + dt.timedelta(days=days)).replace(microsecond=0)
    event, (session,) = create_event(company, (capacity,), start=start)
    adult = create_tariff(event, "Adult", '20.00', product)
    child = create_tariff(event, "Child", '10.00', product)
    setup_organizer(company)
    return event, session, adult, child


def buyer(**values):
    data = {'name': "Léa Petit", 'email': 'lea@example.org',
        'terms': 'yes'}
    data.update(values)
    return data


def card():
    Method = Pool().get('ticket.shop.payment.method')
    method, = Method.search([('provider', '=', 'test')])
    return str(method.id)


class ShopTestMixin:
    "The shop's services"

    @with_transaction()
    def test_checkout_places_order(self):
        "A checkout turns the cart's holds into an order with its answers"
        pool = Pool()
        Order = pool.get('ticket.order')
        Hold = pool.get('ticket.hold')
        company = create_company()
        with set_company(company):
            event, session, adult, child = catalogue(company)
            diet, = setup_event(event, holder_names='optional', questions=[{
                        'name': ("Diet", "Régime"), 'type': 'text',
                        'scope': 'attendee', 'print_on_ticket': True}])
            hold = add_to_cart(session, [(adult, 2, None), (child, 1, None)])
            self.assertEqual(counts(session.pool), [(3, 0)])

            order = place_order([hold], buyer(method=card(), **{
                        'holder-0-1': "Hugo Roux",
                        f'q-{diet.id}-1-0': "Vegan"}),
                Files(), 'fr', 'https://shop.example.org/db/ticket/shop')

            self.assertEqual(order.state, 'reserved')
            self.assertEqual(order.total, Decimal('50.00'))
            self.assertEqual(order.amount_due, Decimal('50.00'))
            self.assertEqual(len(order.shop_token), 32)
            self.assertEqual(order.language, 'fr')
            self.assertTrue(order.terms_accepted_at)
            self.assertEqual(order.party.rec_name, "Léa Petit")
            self.assertEqual(len(order.attendees), 3)
            self.assertEqual(Hold(hold.id).state, 'converted')
            self.assertTrue(order.shop_link.startswith(
                    'https://shop.example.org/db/ticket/shop/order/'))
            self.assertLessEqual(order.reserved_until,
                now() + dt.timedelta(minutes=21))
            answer, = order.answers
            self.assertEqual(answer.value, "Vegan")

            Order.pay([order])
            order = Order(order.id)
            holders = sorted(t.holder_name for t in order.tickets)
            self.assertEqual(holders, ["Hugo Roux", "Léa Petit", "Léa Petit"])
            child_ticket, = [t for t in order.tickets
                if t.shop_attendee.line.tariff == child]
            self.assertIn("Diet: Vegan", child_ticket.admission_labels)

    @with_transaction()
    def test_money_follows_language_and_currency_changes(self):
        "The money format kept per process follows the language and currency"
        from ..render import money
        pool = Pool()
        Lang = pool.get('ir.lang')
        Currency = pool.get('currency.currency')
        company = create_company()
        currency = company.currency
        with Transaction().set_context(language='en'):
            self.assertIn('1234.50', money(Decimal('1234.5'), currency))
            lang = Lang.get('en')
            Lang.write([lang], {
                    'mon_decimal_point': ',', 'mon_thousands_sep': '.'})
            self.assertIn('1234,50', money(Decimal('1234.5'), currency))
            Currency.write([currency], {'symbol': 'QQ'})
            self.assertIn('QQ', money(Decimal('1234.5'), currency))

    @with_transaction()
    def test_checkout_settings_follow_changes(self):
        "The checkout settings kept per process follow every change"
        pool = Pool()
        Organizer = pool.get('ticket.shop.organizer')
        Purpose = pool.get('ticket.shop.consent.purpose')
        Method = pool.get('ticket.shop.payment.method')
        company = create_company()
        with set_company(company):
            catalogue(company)
            settings = checkout_settings(company)
            self.assertEqual(
                [(m.name, m.is_online) for m in settings.methods],
                [("Credit card (test)", True), ("Bank transfer", False)])
            self.assertTrue(settings.terms)
            self.assertEqual([(c.name, c.required) for c in settings.consents],
                [("Send me the newsletter (about twice a month).", False)])
            with Transaction().set_context(language='fr'):
                self.assertEqual(
                    [m.name for m in checkout_settings(company).methods],
                    ["Carte bancaire (test)", "Virement bancaire"])

            transfer, = Method.search([('provider', '=', 'offline')])
            Method.write([transfer], {'active': False})
            self.assertEqual([m.name for m in checkout_settings(
                        company).methods], ["Credit card (test)"])
            organizer, = Organizer.search([('company', '=', company.id)])
            Organizer.write([organizer], {'terms': None,
                    'privacy_url': 'https://example.org/privacy'})
            settings = checkout_settings(company)
            self.assertFalse(settings.terms)
            self.assertEqual(settings.privacy_url,
                'https://example.org/privacy')
            Purpose.create([{'organizer': organizer.id, 'sequence': 1,
                        'name': "Share with partners", 'required': True}])
            self.assertEqual([(c.name, c.required)
                    for c in checkout_settings(company).consents], [
                    ("Share with partners", True),
                    ("Send me the newsletter (about twice a month).",
                        False)])
            Organizer.delete([organizer])
            settings = checkout_settings(company)
            self.assertEqual((settings.organizer, settings.terms,
                    settings.consents), (None, False, ()))

    @with_transaction()
    def test_event_questions_follow_changes(self):
        "The questions kept per process follow every change"
        pool = Pool()
        Question = pool.get('ticket.shop.question')
        Lang = pool.get('ir.lang')
        Lang.write(Lang.search([('code', '=', 'fr')]), {'translatable': True})
        company = create_company()
        with set_company(company):
            event, _, adult, child = catalogue(company)

            def asked(language='en'):
                with Transaction().set_context(language=language):
                    return [(q.name, q.scope, q.required,
                            [t.id for t in q.tariffs])
                        for q in event_questions([event])]
            self.assertEqual(asked(), [])
            diet, size = setup_event(event, questions=[
                    {'name': ("Diet", "Régime"), 'type': 'text',
                        'scope': 'attendee'},
                    {'name': ("Size", "Taille"), 'type': 'choice',
                        'choices': ("S\nM", "S\nM"), 'scope': 'order'},
                    ])
            self.assertEqual(asked(), [("Diet", 'attendee', False, []),
                    ("Size", 'order', False, [])])
            self.assertEqual([n for n, *_ in asked('fr')],
                ["Régime", "Taille"])
            # a translation edited by itself (Administration ▸ Translations)
            Translation = pool.get('ir.translation')
            translation, = Translation.search([
                    ('name', '=', 'ticket.shop.question,name'),
                    ('res_id', '=', size.id), ('lang', '=', 'fr')])
            Translation.write([translation], {'value': "Taille du t-shirt"})
            Transaction().cache.clear()     # the records of a next request
            self.assertEqual([n for n, *_ in asked('fr')],
                ["Régime", "Taille du t-shirt"])
            Question.write([diet], {'required': True,
                    'tariffs': [('add', [child.id])]})
            self.assertEqual(asked()[0], ("Diet", 'attendee', True,
                    [child.id]))
            Question.write([size], {'sequence': 1})
            self.assertEqual([n for n, *_ in asked()], ["Size", "Diet"])
            Question.write([size], {'active': False})
            self.assertEqual([n for n, *_ in asked()], ["Diet"])
            QuestionTariff = pool.get('ticket.shop.question-ticket.tariff')
            QuestionTariff.delete(QuestionTariff.search([]))
            self.assertEqual(asked()[0][3], [])
            Question.delete([diet])
            self.assertEqual(asked(), [])
            # the checkout form asks them: per attendee, per order
            Question.write([size], {'active': True})
            quote = quote_holds([add_to_cart(event.sessions[0],
                        [(adult, 2, None)])])
            form = checkout_form(quote)
            self.assertEqual([q.name for q in form.order_questions],
                ["Size"])
            self.assertEqual(len(form.slots), 2)
            self.assertEqual(form.holder_names, 'none')
            Event = pool.get('ticket.event')
            Event.write([event], {'shop_holder_names': 'required'})
            self.assertEqual(checkout_form(quote).holder_names, 'required')

    @with_transaction()
    def test_shown_sessions_and_taxes_follow_changes(self):
        "What the pages show of sessions and taxes follows every change"
        from ..render import shown_session, tax_label
        pool = Pool()
        Event = pool.get('ticket.event')
        Session = pool.get('ticket.session')
        Tax = pool.get('account.tax')
        Lang = pool.get('ir.lang')
        Translation = pool.get('ir.translation')
        Lang.write(Lang.search([('code', '=', 'fr')]), {'translatable': True})
        company = create_company()
        with set_company(company):
            event, session, adult, _ = catalogue(company)
            tax, = adult.product.customer_taxes_used

            def shown(language='en'):
                with Transaction().set_context(language=language):
                    view = shown_session(session)
                    return (view.id, view.start, view.end, view.event.id,
                        view.event.name, view.event.timezone,
                        view.event.hide_dates)

            def label(language='en'):
                with Transaction().set_context(language=language):
                    return tax_label(tax)
            self.assertEqual(shown(), (session.id, session.start,
                    session.end, event.id, event.name, event.timezone,
                    event.hide_dates))
            self.assertEqual(shown_session(session.id), shown_session(
                    session))
            with Transaction().set_context(language='fr'):
                Event.write([event], {'name': "La Fête"})
            self.assertEqual(shown('fr')[4], "La Fête")
            self.assertEqual(shown('en')[4], event.name)
            Event.write([event], {'name': "The Party",
                    'timezone': 'America/Montreal'})
            self.assertEqual(shown()[4:6], ("The Party", 'America/Montreal'))
            start = session.start + dt.timedelta(hours=1)
            Session.write([session], {'start': start})
            self.assertEqual(shown()[1], start)
            # a translation edited by itself (Administration ▸ Translations)
            translation, = Translation.search([
                    ('name', '=', 'ticket.event,name'),
                    ('res_id', '=', event.id), ('lang', '=', 'fr')])
            # (fuzzy since the English name changed)
            Translation.write([translation], {
                    'value': "La Grande Fête", 'fuzzy': False})
            Transaction().cache.clear()     # the records of a next request
            self.assertEqual(shown('fr')[4], "La Grande Fête")

            self.assertEqual(label(), tax.description or tax.name)
            Tax.write([tax], {'description': "VAT 5.5 %"})
            self.assertEqual(label(), "VAT 5.5 %")
            with Transaction().set_context(language='fr'):
                Tax.write([tax], {'description': "TVA 5,5 %"})
            self.assertEqual(label('fr'), "TVA 5,5 %")
            self.assertEqual(label('en'), "VAT 5.5 %")

    @with_transaction()
    def test_order_shop_zone(self):
        "An order's pages show times in its first session's time zone"
        pool = Pool()
        Event = pool.get('ticket.event')
        company = create_company()
        with set_company(company):
            event, session, adult, _ = catalogue(company)
            Event.write([event], {'timezone': 'Pacific/Noumea'})
            order = place_order([add_to_cart(session, [(adult, 1, None)])],
                buyer(method=card()), Files(), 'en',
                'https://shop.example.org/db/ticket/shop')
            self.assertEqual(order.shop_zone, 'Pacific/Noumea')

    @with_transaction()
    def test_checkout_refusals_change_nothing(self):
        "Every invalid field is reported and nothing is written"
        pool = Pool()
        Order = pool.get('ticket.order')
        company = create_company()
        with set_company(company):
            event, session, adult, _ = catalogue(company)
            postal, = setup_event(event, questions=[{
                        'name': ("Postal code", "Code postal"),
                        'type': 'text', 'scope': 'order', 'required': True,
                        'pattern': '[0-9]{5}'}])
            hold = add_to_cart(session, [(adult, 2, None)])

            with self.assertRaises(CheckoutErrors) as cm:
                place_order([hold], {'name': '', 'email': 'x@y',
                        'phone': 'call me', 'method': '0',
                        'promo_code': 'no code!',
                        f'q-{postal.id}': '6900'}, Files(), 'en', None)
            self.assertEqual(set(cm.exception.errors), {
                    'name', 'email', 'phone', 'method', 'promo_code',
                    'terms', f'q-{postal.id}'})
            self.assertEqual(Order.search([]), [])
            self.assertEqual(counts(session.pool), [(2, 0)])

            with self.assertRaises(CheckoutErrors) as cm:
                place_order([hold], buyer(method=card(),
                        promo_code='UNKNOWN', **{f'q-{postal.id}': '69002'}),
                    Files(), 'en', None)
            self.assertEqual(set(cm.exception.errors), {'promo_code'})
            with self.assertRaises(ShopError):
                place_order([], buyer(), Files(), 'en', None)
            self.assertEqual(Order.search([]), [])

    @with_transaction()
    def test_add_to_cart_sold_out(self):
        "A full session is refused as sold out, nothing held"
        company = create_company()
        with set_company(company):
            _, session, adult, _ = catalogue(company, capacity=3)
            add_to_cart(session, [(adult, 3, None)])
            with self.assertRaises(ShopError) as cm:
                add_to_cart(session, [(adult, 1, None)])
            self.assertEqual(cm.exception.status, 409)
            self.assertIn("Sold out", cm.exception.message)
            self.assertEqual(counts(session.pool), [(3, 0)])
            with self.assertRaises(ShopError):
                add_to_cart(session, [])

    @with_transaction()
    def test_question_answers(self):
        "Answers are checked by the type and pattern of their question"
        Question = Pool().get('ticket.shop.question')
        company = create_company()
        with set_company(company):
            event, *_ = catalogue(company)
            for type_, values in [
                    ('text', [('ab12', 'ab12'), ('', AnswerError),
                            ('x' * 1001, AnswerError), ('12', AnswerError)]),
                    ('number', [('12,5', '12.5'), ('1e3', '1E+3'),
                            ('douze', AnswerError), ('nan', AnswerError)]),
                    ('date', [('2026-12-24', '2026-12-24'),
                            ('24/12/2026', AnswerError),
                            ('2026-02-30', AnswerError)]),
                    ('choice', [('M', 'M'), ('XXL', AnswerError)]),
                    ('checkbox', [('yes', 'yes'), ('', AnswerError)]),
                    ]:
                question = Question(event=event, name="Q", type=type_,
                    scope='order', required=True, choices="S\nM\nL",
                    pattern='[a-z]+[0-9]+' if type_ == 'text' else None)
                question.save()
                for raw, expected in values:
                    with self.subTest(type=type_, raw=raw):
                        if expected is AnswerError:
                            with self.assertRaises(AnswerError):
                                question.clean(raw)
                        else:
                            self.assertEqual(question.clean(raw), expected)
            question = Question(event=event, name="Proof", type='file',
                scope='order', required=True)
            question.save()
            name, data = question.clean(None, ('my proof.pdf', b'%PDF-1.4'))
            self.assertEqual((name, data), ('my_proof.pdf', b'%PDF-1.4'))
            for upload in [None, ('a.exe', b'MZ'),
                    ('big.pdf', b'%PDF' + b'0' * (5 * 1024 * 1024))]:
                with self.assertRaises(AnswerError):
                    question.clean(None, upload)

    @with_transaction()
    def test_question_pattern_validated(self):
        Question = Pool().get('ticket.shop.question')
        company = create_company()
        with set_company(company):
            event, *_ = catalogue(company)
            question = Question(event=event, name="Q", type='text',
                scope='order', pattern='[0-9')
            with self.assertRaises(Exception):
                question.save()

    def paid_order(self, session, tariff, quantity=2):
        pool = Pool()
        Order = pool.get('ticket.order')
        Payment = pool.get('ticket.order.payment')
        hold = add_to_cart(session, [(tariff, quantity, None)])
        order = place_order([hold], buyer(method=card()), Files(), 'en',
            None)
        Payment.record(order, 'test', 'test_' + order.shop_token,
            order.amount_due)
        return Order(order.id)

    @with_transaction()
    def test_refund_rules(self):
        "The first rule whose deadline is not past gives the refund"
        pool = Pool()
        Order = pool.get('ticket.order')
        Session = pool.get('ticket.session')
        company = create_company()
        with set_company(company):
            event, session, adult, _ = catalogue(company, days=90)
            setup_event(event)
            order = self.paid_order(session, adult)
            for days, money, credit in [
                    (90, '40.00', '40.00'),
                    (45, '20.00', '40.00'),
                    (10, '35.00', '35.00'),
                    (1, None, None),
                    ]:
                with self.subTest(days=days):
                    start = now() + dt.timedelta(days=days)
                    Session.write([session], {'start': start,
                            'end': start + dt.timedelta(hours=2)})
                    offer = Order(order.id).refund_offer()
                    if money is None:
                        self.assertIsNone(offer)
                    else:
                        self.assertEqual(offer['money'], Decimal(money))
                        self.assertEqual(offer['credit'], Decimal(credit))

    @with_transaction()
    def test_refund_in_money(self):
        "The order is cancelled, the places return, the money goes back"
        pool = Pool()
        Order = pool.get('ticket.order')
        company = create_company()
        with set_company(company):
            event, session, adult, _ = catalogue(company, days=90)
            setup_event(event)
            order = self.paid_order(session, adult)
            self.assertEqual(counts(session.pool), [(0, 2)])

            amount = Order.refund_by_rules(order, 'money')

            order = Order(order.id)
            self.assertEqual(amount, Decimal('40.00'))
            self.assertEqual(order.state, 'cancelled')
            self.assertEqual(counts(session.pool), [(0, 0)])
            payment, = order.payments
            refund, = order.refunds
            self.assertEqual(payment.state, 'refunded')
            self.assertEqual((refund.amount, refund.state),
                (Decimal('40.00'), 'succeeded'))
            with self.assertRaises(ShopError):
                Order.refund_by_rules(order, 'money')

    @with_transaction()
    def test_refund_as_credit(self):
        "The order becomes a credit for a next order"
        pool = Pool()
        Order = pool.get('ticket.order')
        company = create_company()
        with set_company(company):
            event, session, adult, _ = catalogue(company, days=40)
            setup_event(event)
            order = self.paid_order(session, adult)

            amount = Order.refund_by_rules(order, 'credit')

            order = Order(order.id)
            self.assertEqual(amount, Decimal('40.00'))
            self.assertEqual(order.state, 'cancelled')
            self.assertEqual(order.refund_credit.balance, Decimal('40.00'))
            self.assertEqual(order.refund_credit.kind, 'credit')
            self.assertEqual(order.refunds, ())

    @with_transaction()
    def test_refund_not_offered(self):
        pool = Pool()
        Order = pool.get('ticket.order')
        company = create_company()
        with set_company(company):
            event, session, adult, _ = catalogue(company)
            order = self.paid_order(session, adult)
            self.assertIsNone(order.refund_offer())
            with self.assertRaises(ShopError):
                Order.refund_by_rules(order, 'money')
            self.assertEqual(Order(order.id).state, 'paid')

    @with_transaction()
    def test_late_payment_takes_back_code_and_credit(self):
        """A late payment revives the order with its promo code uses and
        the credit it spent, when they are still there"""
        pool = Pool()
        Order = pool.get('ticket.order')
        Payment = pool.get('ticket.order.payment')
        Campaign = pool.get('ticket.promo.campaign')
        PromoCode = pool.get('ticket.promo.code')
        Credit = pool.get('ticket.credit')
        company = create_company()
        with set_company(company):
            _, session, adult, _ = catalogue(company)
            campaign = Campaign(company=company, name="Promo",
                computation='fixed', amount=Decimal(5), per='ticket')
            campaign.save()
            code, = PromoCode.create([{'campaign': campaign.id,
                        'code': 'FIVE', 'max_uses': 3}])
            voucher, = Credit.issue(Decimal(10), company=company)
            hold = add_to_cart(session, [(adult, 2, None)])
            order = place_order([hold], buyer(method=card(),
                    promo_code='FIVE', credit_codes=voucher.code),
                Files(), 'en', None)
            self.assertEqual(order.amount_due, Decimal('20.00'))
            Order.expire([order])
            self.assertEqual(PromoCode(code.id).uses, 0)
            self.assertEqual(Credit(voucher.id).balance, Decimal(10))
            self.assertEqual(counts(session.pool), [(0, 0)])

            payment, _ = Payment.record(order, 'test', 'late',
                Decimal('20.00'))

            order = Order(order.id)
            self.assertEqual(payment.state, 'succeeded')
            self.assertEqual(order.state, 'paid')
            self.assertEqual(PromoCode(code.id).uses, 2)
            self.assertEqual(Credit(voucher.id).balance, Decimal(0))
            self.assertEqual(counts(session.pool), [(0, 2)])

    @with_transaction()
    def test_late_payment_credit_spent_since(self):
        "A late payment is refunded when the credit was spent since"
        pool = Pool()
        Order = pool.get('ticket.order')
        Payment = pool.get('ticket.order.payment')
        Credit = pool.get('ticket.credit')
        company = create_company()
        with set_company(company):
            _, session, adult, child = catalogue(company)
            voucher, = Credit.issue(Decimal(10), company=company)
            hold = add_to_cart(session, [(adult, 1, None)])
            order = place_order([hold], buyer(method=card(),
                    credit_codes=voucher.code), Files(), 'en', None)
            Order.expire([order])
            other = add_to_cart(session, [(child, 1, None)])
            place_order([other], buyer(credit_codes=voucher.code,
                    method=card()), Files(), 'en', None)

            payment, _ = Payment.record(order, 'test', 'late',
                Decimal('10.00'))
            self.assertEqual(payment.state, 'refund_due')
            self.assertEqual(Order(order.id).state, 'expired')
            # only the other order's place, paid by the voucher
            self.assertEqual(counts(session.pool), [(0, 1)])

    @with_transaction()
    def test_waitlist_wave(self):
        "Freed places go to the first people waiting, held for them"
        pool = Pool()
        Entry = pool.get('ticket.shop.waitlist')
        Hold = pool.get('ticket.hold')
        company = create_company()
        with set_company(company):
            event, session, adult, child = catalogue(company, capacity=4)
            setup_event(event)
            full = add_to_cart(session, [(adult, 4, None)])
            first = Entry.sign_up(session, "A", 'a@example.org', 3, 'en',
                None)
            second = Entry.sign_up(session, "B", 'b@example.org', 1, 'fr',
                None)
            with self.assertRaises(ShopError):
                Entry.sign_up(session, "A", 'a@example.org', 1, 'en', None)
            with self.assertRaises(ShopError):
                Entry.sign_up(session, "C", 'c@example.org', 5, 'en', None)
            self.assertEqual(Entry.wave(session), [])

            Hold.release([full])
            with Transaction().set_context(queue_name='test'):
                offered = Entry.wave(session)

            self.assertEqual(offered, [first, second])
            self.assertEqual(counts(session.pool), [(4, 0)])
            with self.assertRaises(ShopError):
                first.claim_places([(adult, 4, None)])
            hold = first.claim_places([(adult, 2, None), (child, 1, None)])
            self.assertEqual(hold.quantity, 3)
            self.assertEqual(Entry(first.id).state, 'claimed')
            self.assertEqual(counts(session.pool), [(4, 0)])
            Entry.cancel([second])
            self.assertEqual(counts(session.pool), [(3, 0)])

    @with_transaction()
    def test_email_retried_when_server_down(self):
        "A mail server that fails puts the e-mail back in the queue"
        pool = Pool()
        Order = pool.get('ticket.order')
        Queue = pool.get('ir.queue')
        company = create_company()
        with set_company(company):
            _, session, adult, _ = catalogue(company)
            order = self.paid_order(session, adult)
            Queue.delete(Queue.search([]))
            uri = config.get('email', 'uri')
            config.set('email', 'uri', 'smtp://127.0.0.1:9')
            try:
                Order.send_shop_email([order], 'confirmation', 'en', 1)
            finally:
                config.set('email', 'uri', uri)
            order = Order(order.id)
            self.assertTrue(order.email_error)
            self.assertIsNone(order.email_sent_at)
            task, = Queue.search([])
            self.assertEqual(task.data['method'], 'send_shop_email')
            self.assertEqual(list(task.data['args']), ['confirmation', 'en', 2])
            self.assertGreater(task.scheduled_at, dt.datetime.now())

    def _queue_rows(self, ids):
        cursor = Transaction().connection.cursor()
        cursor.execute('SELECT create_uid, write_uid, write_date, name, '
            'data, dequeued_at, finished_at, scheduled_at, expected_at, '
            'create_date, enqueued_at '
            'FROM ir_queue WHERE id = ANY(%s) ORDER BY id', (ids,))
        return cursor.fetchall()

    @with_transaction()
    def test_email_queued_as_by_the_orm(self):
        "The e-mail's task pushed by SQL is the row the ORM's push gives"
        pool = Pool()
        Order = pool.get('ticket.order')
        Queue = pool.get('ir.queue')
        company = create_company()
        with set_company(company):
            _, session, adult, _ = catalogue(company)
            order = self.paid_order(session, adult)
            Queue.delete(Queue.search([]))
            tasks = []
            for plain in [True, False]:
                with patch.object(Queue, '_push_plain',
                        return_value=plain), \
                        patch.object(Queue, 'create',
                            wraps=Queue.create) as create:
                    Order.queue_shop_email(order, 'confirmation',
                        delay=dt.timedelta(minutes=4), attempt=3)
                self.assertEqual(create.called, not plain)
                task, = Queue.search([('id', 'not in', tasks)])
                tasks.append(task.id)
            plain, orm = self._queue_rows(tasks)
            # all but the times taken at the call
            self.assertEqual(plain[:7] + plain[8:10], orm[:7] + orm[8:10])
            # the scheduled time and enqueued time: now (to the call)
            for row in [plain, orm]:
                self.assertLess(abs(row[7] - row[10]
                        - dt.timedelta(minutes=4)), dt.timedelta(seconds=5))
            task = Queue(tasks[0])
            self.assertEqual(task.data['method'], 'send_shop_email')
            self.assertEqual(list(task.data['instances']), [order.id])
            self.assertEqual(list(task.data['args']),
                ['confirmation', order.language or 'en', 3])

    @with_transaction()
    def test_email_queued_by_the_orm_with_trigger(self):
        "A trigger on the tasks' creation: the task goes through the ORM"
        pool = Pool()
        Queue = pool.get('ir.queue')
        Trigger = pool.get('ir.trigger')
        self.assertTrue(Queue._push_plain('ticket_shop_email'))
        self.assertFalse(Queue._push_plain(''))
        get_triggers = Trigger.get_triggers

        def triggers(model, mode):
            if model == 'ir.queue':
                return [None]
            return get_triggers(model, mode)
        with patch.object(Trigger, 'get_triggers', triggers):
            self.assertFalse(Queue._push_plain('ticket_shop_email'))

    @with_transaction()
    def test_email_recorded_as_by_the_orm(self):
        "The worker's e-mail record by SQL is the ORM's: same rows, values"
        pool = Pool()
        Order = pool.get('ticket.order')
        Email = pool.get('ir.email')
        company = create_company()
        with set_company(company):
            _, session, adult, _ = catalogue(company)
            orders = [self.paid_order(session, adult) for _ in range(2)]
            Order.write(orders, {'email_error': 'down'})
            emails = []
            for order, user in zip(orders, [0, 1]):
                values = {
                    'recipients': order.email,
                    'subject': f'Order {order.number}',
                    'body': 'Your tickets',
                    'message_id': f'<{order.number}@example.org>',
                    'resource': str(order),
                    }
                with Transaction().set_user(user):
                    Order._record_email(Order(order.id), values)
                order = Order(order.id)
                self.assertIsNone(order.email_error)
                self.assertLessEqual(order.email_sent_at, now())
                email, = Email.search([('resource', '=', str(order))])
                emails.append(email)
                self.assertEqual(
                    {f: getattr(email, f) for f in values if f != 'resource'},
                    {f: v for f, v in values.items() if f != 'resource'})
                self.assertEqual(email.resource, order)
                self.assertEqual(email.create_uid.id, user)
                self.assertIsNotNone(email.create_date)
                self.assertEqual(order.write_uid.id, user)

    @with_transaction()
    def test_confirmation_message(self):
        "The e-mail has the PDF tickets and the calendar entry"
        pool = Pool()
        company = create_company()
        with set_company(company):
            _, session, adult, _ = catalogue(company)
            order = self.paid_order(session, adult)
            with Transaction().set_context(language='en'):
                message = order_message(order, 'confirmation')
            self.assertIn(order.number, message['Subject'])
            attachments = list(message.iter_attachments())
            self.assertEqual([a.get_content_type() for a in attachments],
                ['application/pdf', 'text/calendar'])
            self.assertIn('Adult', pdf_text(attachments[0].get_content()))
            # the queue worker (root) attaches the report's very pages
            with Transaction().set_user(0), \
                    Transaction().set_context(language='en'):
                worker = order_message(order, 'confirmation')
            _, report, _, _ = pool.get('ticket.order.tickets',
                type='report').execute([order.id], {})
            worker_pdf, = [a.get_content() for a in worker.iter_attachments()
                if a.get_content_type() == 'application/pdf']
            self.assertEqual(pdf_pages(worker_pdf), pdf_pages(report))
            self.assertEqual(pdf_pages(attachments[0].get_content()),
                pdf_pages(report))
            self.assertIn(order.shop_token,
                message.get_body(('plain',)).get_content())
            ics = calendar(order)
            self.assertTrue(all(len(l.encode()) <= 75
                    for l in ics.split('\r\n')))
            self.assertEqual(ics.count('BEGIN:VEVENT'), 1)
            self.assertIn(session.start.strftime('DTSTART:%Y%m%dT%H%M%SZ'),
                ics)

    @with_transaction()
    def test_ticket_copy_without_price(self):
        pool = Pool()
        Copy = pool.get('ticket.order.tickets_copy', type='report')
        Tickets = pool.get('ticket.order.tickets', type='report')
        company = create_company()
        with set_company(company):
            _, session, adult, _ = catalogue(company)
            order = self.paid_order(session, adult)
            _, full, _, _ = Tickets.execute([order.id], {})
            _, copy, _, _ = Copy.execute([order.id], {})
            self.assertRegex(pdf_text(full), r'20[.,]00')
            self.assertNotRegex(pdf_text(copy), r'20[.,]00')
            self.assertIn('Adult', pdf_text(copy))

    @with_transaction()
    def test_shop_secret_stable(self):
        Configuration = Pool().get('ticket.configuration')
        secret = Configuration.get_shop_secret()
        self.assertEqual(len(secret), 64)
        self.assertEqual(Configuration.get_shop_secret(), secret)

    def test_host_load(self):
        "The host's CPU used by the others: not this process or its children"
        with tempfile.TemporaryDirectory() as proc:
            def write(path, text):
                os.makedirs(os.path.dirname(os.path.join(proc, path)),
                    exist_ok=True)
                with open(os.path.join(proc, path), 'w') as file:
                    file.write(text)

            def host(user, idle):
                # user nice system idle iowait irq softirq steal guest
                write('stat', f'cpu  {user} 5 10 {idle} 3 0 2 0 0 0\n'
                    f'cpu0 0 0 0 0 0 0 0 0 0 0\n')

            def process(pid, utime, stime):
                # the command may hold spaces and parentheses
                write(f'{pid}/stat', f'{pid} (trytond (worker) x) S 1 2 3 '
                    f'4 5 6 7 8 9 10 {utime} {stime} 0 0 20 0 1 0\n')
            children = [101]
            load = HostLoad(proc, children=lambda: children)
            load.WINDOW = 0
            me = os.getpid()
            host(1000, 5000)
            process(me, 10, 5)
            process(101, 100, 20)
            self.assertIsNone(load.busy())
            # 200 ticks: 40 idle, 30 of this process, 50 of its child
            host(1160, 5040)
            process(me, 30, 15)
            process(101, 140, 30)
            self.assertAlmostEqual(load.busy(), (200 - 40 - 80) / 200)
            # the child replaced by another one: all its ticks are its own
            children[:] = [102]
            process(102, 20, 5)
            host(1360, 5040)
            self.assertAlmostEqual(load.busy(), (200 - 0 - 25) / 200)
            # asked again within the window: the same figure
            load.WINDOW = 60
            host(1360, 5240)
            self.assertAlmostEqual(load.busy(), 175 / 200)
            # no /proc: no figure
            self.assertIsNone(HostLoad(os.path.join(proc, 'missing'),
                    children=list).busy())
        if os.path.exists('/proc/stat'):
            load = HostLoad()
            load.WINDOW = 0
            load.busy()
            sum(range(10 ** 6))
            for _ in range(50):
                value = load.busy()
                if value is not None:
                    break
                time.sleep(0.02)
            self.assertTrue(0 <= value <= 1, value)

    @with_transaction()
    def test_queue_yields_to_a_busy_host(self):
        "The worker leaves a busy host's CPU to the requests, for a while"
        pool = Pool()
        Queue = pool.get('ir.queue')
        transaction = Transaction()
        database, connection = transaction.database, transaction.connection
        Queue.delete(Queue.search([]))

        class Load:
            value = 0.95

            def busy(self):
                return self.value
        load = Load()
        data = {'model': 'res.user', 'method': 'read', 'user': 0,
            'context': {}, 'instances': [1], 'args': [], 'kwargs': {}}

        def dequeued(task):
            cursor = connection.cursor()
            cursor.execute('SELECT dequeued_at IS NOT NULL FROM ir_queue '
                'WHERE id = %s', (task,))
            return cursor.fetchone()[0]
        added = not config.has_section('ticket_shop')
        if added:
            config.add_section('ticket_shop')
        saved = {o: config.get('ticket_shop', o)
            for o in ['queue_yield_load', 'queue_yield_max']}
        try:
            with patch.object(Queue, '_host_load', load), \
                    patch.object(Queue, '_waiting_since', None):
                # nothing queued: nothing to wait for
                self.assertEqual(Queue.pull(database, connection),
                    (None, None))
                first = Queue.push('default', data)
                # busy (95 % > 80 % by default): the task waits
                task, wait = Queue.pull(database, connection)
                self.assertIsNone(task)
                self.assertTrue(0 < wait <= HostLoad.WINDOW, wait)
                self.assertFalse(dequeued(first))
                # the host calmer: it runs
                load.value = 0.5
                self.assertEqual(Queue.pull(database, connection)[0],
                    first)
                self.assertTrue(dequeued(first))

                # busy, but a task waited longer than the maximum
                load.value = 0.99
                second = Queue.push('default', data)
                self.assertIsNone(Queue.pull(database, connection)[0])
                cursor = connection.cursor()
                cursor.execute('UPDATE ir_queue SET enqueued_at = '
                    'enqueued_at - INTERVAL \'61 seconds\' WHERE id = %s',
                    (second,))
                Queue._waiting_since = None
                self.assertEqual(Queue.pull(database, connection)[0],
                    second)

                # a longer maximum, then no waiting at all
                config.set('ticket_shop', 'queue_yield_max', '120')
                third = Queue.push('default', data)
                cursor.execute('UPDATE ir_queue SET enqueued_at = '
                    'enqueued_at - INTERVAL \'61 seconds\' WHERE id = %s',
                    (third,))
                task, wait = Queue.pull(database, connection)
                self.assertIsNone(task)
                config.set('ticket_shop', 'queue_yield_load', '0')
                self.assertEqual(Queue.pull(database, connection)[0],
                    third)
                # a higher limit than the load: no waiting either
                config.set('ticket_shop', 'queue_yield_load', '1')
                fourth = Queue.push('default', data)
                self.assertEqual(Queue.pull(database, connection)[0],
                    fourth)

                # a retry queued long ago but due a moment ago: it waits
                # from its scheduled time
                config.set('ticket_shop', 'queue_yield_load', '0.8')
                config.set('ticket_shop', 'queue_yield_max', '60')
                Queue._waiting_since = None
                retry = Queue.push('default', data)
                cursor.execute('UPDATE ir_queue SET enqueued_at = '
                    'enqueued_at - INTERVAL \'10 minutes\', scheduled_at '
                    '= enqueued_at - INTERVAL \'1 second\' WHERE id = %s',
                    (retry,))
                task, wait = Queue.pull(database, connection)
                self.assertIsNone(task)
                self.assertFalse(dequeued(retry))
        finally:
            if added:
                config.remove_section('ticket_shop')
            else:
                for option, value in saved.items():
                    if value is None:
                        config._config.remove_option('ticket_shop', option)
                    else:
                        config.set('ticket_shop', option, value)
            config._cache_clear()
