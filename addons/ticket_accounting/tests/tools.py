"""Accounting helpers for proteus scenarios.

Refunds and revenue recognition are services (``Payment.refund``,
``Session.recognize_revenue``) that the box office, the shop and the
scheduler call; these helpers run them in a transaction of the proteus
configuration, as those edges do."""
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from proteus import Model
from proteus.config import get_config
from trytond.pool import Pool

from guichet.ticket_event.tests.tools import _run

__all__ = ['refund', 'recognize', 'trial_balance', 'vat_report', 'fec']


def refund(payment, amount=None, config=None):
    "Refund amount (all that is left by default) of a proteus payment"
    config = config or get_config()

    def func():
        Payment = Pool().get('ticket.order.payment')
        return Payment.refund(Payment(payment.id), amount).id
    return Model.get('ticket.order.payment', config=config)(
        _run(func, config))


def recognize(config=None):
    """Recognize the revenue of the sessions that took place, as the
    scheduler does; return their names"""
    config = config or get_config()

    def func():
        Session = Pool().get('ticket.session')
        return [s.rec_name for s in Session.recognize_revenue()]
    return _run(func, config)


def trial_balance(company, config=None):
    "Print the balance of each account used: code, name, debit, credit"
    config = config or get_config()
    Line = Model.get('account.move.line', config=config)
    totals = defaultdict(lambda: [Decimal(0), Decimal(0)])
    names = {}
    for line in Line.find([('account.company', '=', company.id)]):
        totals[line.account.code][0] += line.debit
        totals[line.account.code][1] += line.credit
        names[line.account.code] = line.account.name
    debit = credit = Decimal(0)
    for code in sorted(totals):
        balance = totals[code][0] - totals[code][1]
        if not balance:
            continue
        print(f"{code:<6} {names[code][:38]:<38} "
            f"{balance if balance > 0 else '':>9} "
            f"{-balance if balance < 0 else '':>7}".rstrip())
        debit += max(balance, 0)
        credit += max(-balance, 0)
    print(f"{'':<6} {'Total':<38} {debit:>9} {credit:>7}")


def vat_report(company, config=None):
    """Print the VAT report by rate and tariff of company (all dates):
    rate, tariff, base, VAT; then the totals"""
    config = config or get_config()

    def func():
        from guichet.ticket_accounting.report import vat_rows
        Company = Pool().get('company.company')
        return [(tax.rate, tariff.name if tariff else '', base, vat)
            for tax, tariff, base, vat in vat_rows(Company(company.id),
                dt.date(1900, 1, 1), dt.date(2999, 12, 31))]
    rows = _run(func, config)
    for rate, tariff, base, vat in rows:
        print(f"{rate * 100:.1f} % {tariff or '-'}: {base} {vat}")
    print(f"Total: {sum((r[2] for r in rows), Decimal(0))} "
        f"{sum((r[3] for r in rows), Decimal(0))}")


def fec(fiscalyear, config=None):
    """The rows of the FEC (account_fr) of fiscalyear as dicts by column"""
    import csv
    import io
    from proteus import Wizard
    config = config or get_config()
    wizard = Wizard('account.fr.fec', config=config)
    wizard.form.fiscalyear = fiscalyear
    wizard.execute('generate')
    text = wizard.form.file.decode('utf-8')
    reader = csv.reader(io.StringIO(text), delimiter='\t',
        quoting=csv.QUOTE_NONE, escapechar='\\')
    header, *rows = list(reader)
    return [dict(zip(header, r)) for r in rows]
