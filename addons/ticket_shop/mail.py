"""The shop's e-mails: confirmation with the PDF tickets and the calendar
entry, order awaiting an offline payment, refund, link to an order, offer
of a waiting list; and the .ics calendar of an order."""
import datetime as dt
from decimal import Decimal
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from trytond.config import config
from trytond.pool import Pool
from trytond.transaction import Transaction
from trytond.url import host

from guichet.ticket_event.common import now

from .render import render, text

ICS_DATE = '%Y%m%dT%H%M%SZ'


def sender(company):
    "The From header: the organizer's name at the configured address"
    address = config.get('email', 'from') or 'tickets@localhost'
    return formataddr((company.rec_name, address.split('<')[-1].strip('> ')))


def new_message(to, subject, template, **values):
    "A text and HTML e-mail rendered from mail/<template>.txt and .html"
    message = EmailMessage()
    message['To'] = to
    message['Subject'] = subject
    message['Message-ID'] = make_msgid(domain=host())
    message.set_content(render(f'mail/{template}.txt', **values))
    message.add_alternative(
        render(f'mail/{template}.html', **values), subtype='html')
    return message


def order_message(order, kind, **extra):
    "The e-mail of kind about order, in the language of the transaction"
    pool = Pool()
    if 'amount' in extra:
        extra['amount'] = Decimal(extra['amount'])
    TicketReport = pool.get('ticket.order.tickets', type='report')
    Organizer = pool.get('ticket.shop.organizer')
    organizer = Organizer.for_company(order.company)
    subjects = {
        'confirmation': 'mail_confirmation_subject',
        'reserved': 'mail_reserved_subject',
        'refund': 'mail_refund_subject',
        'lookup': 'mail_lookup_subject',
        }
    events = ', '.join(dict.fromkeys(s.event.name for s in order.sessions))
    message = new_message(order.email,
        text(subjects[kind], number=order.number, event=events),
        kind, order=order, organizer=organizer, events=events, **extra)
    message['From'] = sender(order.company)
    if organizer.contact_email:
        message['Reply-To'] = organizer.contact_email
    if kind == 'confirmation' and order.state == 'paid':
        if Transaction().user:
            # a user's e-mail: the report's access rules apply
            _, content, _, _ = TicketReport.execute([order.id], {})
        else:
            # the queue worker as root: the same file without looking up
            # the report's action (its name is not used here)
            content = TicketReport.orders_pdf([order])
        message.add_attachment(content, maintype='application',
            subtype='pdf', filename=f'{text("mail_tickets_file")}-'
            f'{order.number}.pdf')
        message.add_attachment(calendar(order).encode(), maintype='text',
            subtype='calendar', filename=f'{order.number}.ics',
            params={'method': 'PUBLISH'})
    return message


def waitlist_message(entry):
    "The e-mail offering places to a person on a waiting list"
    session = entry.session
    message = new_message(entry.email,
        text('mail_waitlist_subject', event=session.event.name),
        'waitlist', entry=entry, session=session, event=session.event)
    message['From'] = sender(session.event.company)
    return message


def _escape(value):
    return (value.replace('\\', '\\\\').replace(';', '\\;')
        .replace(',', '\\,').replace('\n', '\\n'))


def _fold(line):
    "Fold a content line at 75 octets (RFC 5545)"
    data = line.encode()
    parts = []
    while len(data) > 75:
        cut = 75 if not parts else 74
        while (data[cut] & 0xC0) == 0x80:    # not inside a UTF-8 character
            cut -= 1
        parts.append(data[:cut].decode())
        data = data[cut:]
    parts.append(data.decode())
    return '\r\n '.join(parts)


def calendar(order):
    "The iCalendar of the sessions of order"
    stamp = now().strftime(ICS_DATE)
    lines = ['BEGIN:VCALENDAR', 'VERSION:2.0',
        'PRODID:-//Guichet//Ticket Shop//EN',
        'CALSCALE:GREGORIAN', 'METHOD:PUBLISH']
    for session in order.sessions:
        event = session.event
        venue = session.effective_venue
        location = venue.name
        if venue.address:
            location += ', ' + venue.address.full_address.replace('\n', ', ')
        end = session.end or session.start + dt.timedelta(hours=2)
        description = text('mail_ics_description', number=order.number)
        if order.shop_link:
            description += '\n' + order.shop_link
        lines += ['BEGIN:VEVENT',
            f'UID:{order.number}-{session.id}@{host()}',
            f'DTSTAMP:{stamp}',
            f'DTSTART:{session.start.strftime(ICS_DATE)}',
            f'DTEND:{end.strftime(ICS_DATE)}',
            'SUMMARY:' + _escape(event.name + (
                    f' — {session.name}' if session.name else '')),
            'LOCATION:' + _escape(location),
            'DESCRIPTION:' + _escape(description)]
        if order.shop_link:
            lines.append(f'URL:{order.shop_link}')
        lines.append('END:VEVENT')
    lines.append('END:VCALENDAR')
    return '\r\n'.join(_fold(l) for l in lines) + '\r\n'
