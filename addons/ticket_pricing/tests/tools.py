"""Call the price engine from a proteus scenario.

The engine (``PriceEngine.quote``) and ``Order.create_from_quote`` are
Python services called by the shop, the box office and the API, not client
RPC; these helpers run them in a transaction of the proteus configuration,
as those edges do. Lines are given as (tariff, session, quantity) or
(tariff, session, quantity, amount) with proteus records (session None for
a tariff that issues no ticket); other keyword arguments go to QuoteRequest
(channel, promo_code, credit_codes, email, passwords, delivery)."""
import types

from proteus import Model
from proteus.config import get_config
from trytond.pool import Pool

from guichet.ticket_event.tests.tools import _run

__all__ = ['quote', 'reserve', 'create_order', 'buy']


def _request(lines, kwargs):
    from guichet.ticket_pricing.engine import LineRequest, QuoteRequest
    pool = Pool()
    Tariff = pool.get('ticket.tariff')
    Session = pool.get('ticket.session')
    requests = []
    for line in lines:
        tariff, session, quantity = line[:3]
        requests.append(LineRequest(
                tariff=Tariff(tariff.id),
                session=Session(session.id) if session else None,
                quantity=quantity,
                amount=line[3] if len(line) > 3 else None))
    kwargs = dict(kwargs)
    for name in ['credit_codes', 'passwords']:
        if name in kwargs:
            kwargs[name] = tuple(kwargs[name])
    return QuoteRequest(lines=requests, **kwargs)


def summary(quote):
    """The plain values of quote: lines (kind, description, quantity,
    unit_price, discount, untaxed, tax, total, notes), taxes (name, base,
    amount), untaxed, tax, total, discount, credit, to_pay, promo_code"""
    def line(l):
        return types.SimpleNamespace(
            kind=l.kind, description=l.description, quantity=l.quantity,
            unit_price=l.unit_price, discount=l.discount,
            untaxed=l.untaxed, tax=l.tax, total=l.total,
            notes=list(l.notes))
    return types.SimpleNamespace(
        lines=[line(l) for l in quote.lines],
        taxes=[types.SimpleNamespace(
                name=t.tax.name, base=t.base, amount=t.amount)
            for t in quote.tax_lines],
        untaxed=quote.untaxed, tax=quote.tax, total=quote.total,
        discount=quote.discount, credit=quote.credit_amount,
        to_pay=quote.to_pay,
        promo_code=getattr(quote.promo_code, 'rec_name', quote.promo_code))


def quote(lines, config=None, **kwargs):
    """Quote lines and return the summary of the quote; a refusal raises
    the engine's PricingError (its code in .code)"""
    config = config or get_config()

    def func():
        PriceEngine = Pool().get('ticket.price_engine')
        return summary(PriceEngine.quote(_request(lines, kwargs)))
    return _run(func, config)


def reserve(lines, delay=None, config=None, **kwargs):
    """Quote lines and hold their places in every pool (session, category,
    tariff), as a cart does; return the proteus hold"""
    config = config or get_config()

    def func():
        pool = Pool()
        PriceEngine = pool.get('ticket.price_engine')
        Hold = pool.get('ticket.hold')
        priced = PriceEngine.quote(_request(lines, kwargs))
        return Hold.reserve_quote(priced, delay=delay).id
    return Model.get('ticket.hold', config=config)(_run(func, config))


def create_order(holds, party=None, email=None, config=None, **kwargs):
    """Create the reserved order of proteus holds priced by the engine, as
    a checkout does; kwargs go to the QuoteRequest (promo_code, ...)"""
    config = config or get_config()

    def func():
        pool = Pool()
        PriceEngine = pool.get('ticket.price_engine')
        Hold = pool.get('ticket.hold')
        Order = pool.get('ticket.order')
        Party = pool.get('party.party')
        holds_ = Hold.browse([h.id for h in holds])
        for name in ['credit_codes', 'passwords']:
            if name in kwargs:
                kwargs[name] = tuple(kwargs[name])
        priced = PriceEngine.quote(Order.quote_request(holds_, **kwargs))
        order = Order.create_from_quote(priced, holds_,
            party=Party(party.id) if party else None, email=email)
        return order.id
    return Model.get('ticket.order', config=config)(_run(func, config))


def buy(lines, party=None, email=None, config=None, **kwargs):
    """Quote lines, hold their places and create the reserved order priced
    by the quote, in one transaction; return the proteus order"""
    config = config or get_config()

    def func():
        pool = Pool()
        PriceEngine = pool.get('ticket.price_engine')
        Hold = pool.get('ticket.hold')
        Order = pool.get('ticket.order')
        Party = pool.get('party.party')
        priced = PriceEngine.quote(_request(lines, kwargs))
        hold = Hold.reserve_quote(priced)
        order = Order.create_from_quote(priced, [hold],
            party=Party(party.id) if party else None, email=email)
        return order.id
    return Model.get('ticket.order', config=config)(_run(func, config))
