"""Call the price engine for passes from a proteus scenario.

As ``tools.quote`` and ``tools.buy``, with lines given as (tariff, session,
quantity) or (tariff, session, quantity, components), where components
lists the proteus components or sessions chosen (session None for a pass).
``renewals`` tells which of last season's passes a quote would renew."""
from proteus import Model
from proteus.config import get_config
from trytond.pool import Pool

from guichet.ticket_event.tests.tools import _run

from .tools import summary

__all__ = ['buy', 'quote', 'renewals']


def _request(lines, kwargs):
    from guichet.ticket_pricing.engine import LineRequest, QuoteRequest
    pool = Pool()
    Tariff = pool.get('ticket.tariff')
    Session = pool.get('ticket.session')
    Component = pool.get('ticket.tariff.component')
    requests = []
    for line in lines:
        tariff, session, quantity = line[:3]
        components = None
        if len(line) > 3:
            components = [
                (Session if c.__class__.__name__ == 'ticket.session'
                    else Component)(c.id) for c in line[3]]
        requests.append(LineRequest(
                tariff=Tariff(tariff.id),
                session=Session(session.id) if session else None,
                quantity=quantity, components=components))
    kwargs = dict(kwargs)
    if 'passwords' in kwargs:
        kwargs['passwords'] = tuple(kwargs['passwords'])
    return QuoteRequest(lines=requests, **kwargs)


def quote(lines, config=None, **kwargs):
    """Quote lines and return the summary of the quote; a refusal raises
    the engine's PricingError"""
    config = config or get_config()

    def func():
        PriceEngine = Pool().get('ticket.price_engine')
        return summary(PriceEngine.quote(_request(lines, kwargs)))
    return _run(func, config)


def renewals(lines, config=None, **kwargs):
    "The pass codes of last season that the quote of lines renews"
    config = config or get_config()

    def func():
        PriceEngine = Pool().get('ticket.price_engine')
        quote = PriceEngine.quote(_request(lines, kwargs))
        return [s.pass_code for l in quote.lines
            for s in getattr(l, 'renewals', [])]
    return _run(func, config)


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
        priced = PriceEngine.quote(_request(lines, dict(kwargs, email=email)))
        order = Order.create_from_quote(priced, [Hold.reserve_quote(priced)],
            party=Party(party.id) if party else None, email=email)
        return order.id
    return Model.get('ticket.order', config=config)(_run(func, config))
