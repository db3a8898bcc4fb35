"""Shop settings for the demo and the browser tests, as an organizer sets
them up: profile with terms of sale and consents, payment methods (test
card and bank transfer), refund rules, questions and a waiting list.

Call inside a transaction with the company in the context, e.g.
``setup_organizer(company)`` then ``setup_event(event, ...)``."""
import io
from decimal import Decimal

from trytond.pool import Pool
from trytond.transaction import Transaction


def terms_pdf(company_name):
    "A one-page PDF of terms of sale"
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setTitle('Conditions générales de vente')
    pdf.setFont('Helvetica-Bold', 16)
    pdf.drawString(20 * mm, 270 * mm, 'Conditions générales de vente')
    pdf.setFont('Helvetica', 10)
    y = 255 * mm
    for line in [
            company_name,
            "1. Les billets sont nominatifs lorsque l'organisateur le "
            "demande.",
            "2. Les billets ne sont ni repris ni échangés, sauf selon les "
            "règles de remboursement de l'événement.",
            "3. En cas d'annulation de l'événement, le prix du billet est "
            "remboursé.",
            "4. Chaque billet est admis une seule fois.",
            ]:
        pdf.drawString(20 * mm, y, line)
        y -= 7 * mm
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _both(record, field, english, french):
    "Write a translatable field in English and in French"
    Model = record.__class__
    with Transaction().set_context(language='en'):
        Model.write([Model(record.id)], {field: english})
    with Transaction().set_context(language='fr'):
        Model.write([Model(record.id)], {field: french})


def setup_organizer(company, website='https://www.example.org',
        email='billetterie@example.org'):
    """The organizer's profile (terms of sale, consents) and payment
    methods: a test card and a bank transfer"""
    pool = Pool()
    Configuration = pool.get('ticket.configuration')
    Organizer = pool.get('ticket.shop.organizer')
    Purpose = pool.get('ticket.shop.consent.purpose')
    Method = pool.get('ticket.shop.payment.method')
    Configuration.get_shop_secret()
    organizer = Organizer(company=company, website=website,
        contact_email=email, privacy_url=website + '/confidentialite',
        terms=terms_pdf(company.rec_name), terms_filename='cgv.pdf')
    organizer.save()
    _both(organizer, 'description',
        "A theatre company in Lyon since 1987: theatre, music and "
        "festivals.",
        "Une compagnie lyonnaise depuis 1987 : théâtre, musique et "
        "festivals.")
    newsletter = Purpose(organizer=organizer, required=False, sequence=10)
    newsletter.name = "Send me the newsletter (about twice a month)."
    newsletter.save()
    _both(newsletter, 'name',
        "Send me the newsletter (about twice a month).",
        "Je souhaite recevoir la lettre d'information (deux fois par mois "
        "environ).")
    card = Method(company=company, provider='test', method='card',
        sequence=10, name="Card")
    card.save()
    _both(card, 'name', "Credit card (test)", "Carte bancaire (test)")
    transfer = Method(company=company, provider='offline',
        method='transfer', sequence=20, name="Bank transfer")
    transfer.save()
    _both(transfer, 'name', "Bank transfer", "Virement bancaire")
    _both(transfer, 'instructions',
        f"Account holder: {company.rec_name}\n"
        "IBAN: FR76 3000 4000 0500 0012 3456 789\nBIC: BNPAFRPPXXX",
        f"Titulaire : {company.rec_name}\n"
        "IBAN : FR76 3000 4000 0500 0012 3456 789\nBIC : BNPAFRPPXXX")
    return organizer


def setup_event(event, refunds=True, waitlist=True, questions=(),
        holder_names='none', show_remaining=True):
    """The shop settings of event: refund rules (everything until 60 days
    before, half until 30 days, everything less 5.00 until 2 days),
    waiting list with automatic waves, questions given as dict values"""
    pool = Pool()
    Event = pool.get('ticket.event')
    Rule = pool.get('ticket.shop.refund.rule')
    Question = pool.get('ticket.shop.question')
    Event.write([event], {
            'shop_show_remaining': show_remaining,
            'shop_holder_names': holder_names,
            'shop_holder_change': holder_names != 'none',
            'shop_refund_money': refunds,
            'shop_refund_credit': refunds,
            'waitlist': waitlist,
            'waitlist_auto': waitlist,
            })
    if refunds:
        Rule.create([
                {'event': event.id, 'days': 60, 'percentage': Decimal(100),
                    'credit_percentage': Decimal(100)},
                {'event': event.id, 'days': 30, 'percentage': Decimal(50),
                    'credit_percentage': Decimal(100)},
                {'event': event.id, 'days': 2, 'percentage': Decimal(100),
                    'credit_percentage': Decimal(100),
                    'fee': Decimal('5.00')},
                ])
    created = []
    for sequence, values in enumerate(questions, 1):
        values = dict(values)
        names = values.pop('name')
        choices = values.pop('choices', None)
        question = Question(event=event, sequence=sequence * 10,
            name=names[0], choices=choices[0] if choices else None, **values)
        question.save()
        _both(question, 'name', *names)
        if choices:
            _both(question, 'choices', *choices)
        created.append(question)
    return created


def setup_demo(database):
    """The shop of the demo database (tools/demo.py), in a transaction
    started again with the table locks Tryton asks for"""
    from trytond.transaction import TransactionError
    extras = {}
    while True:
        try:
            return _setup_demo(database, extras)
        except TransactionError as error:
            error.fix(extras)


def _setup_demo(database, extras):
    from trytond.pool import Pool as Pool_
    with Transaction().start(database, 1, **extras) as transaction:
        pool = Pool_()
        Company = pool.get('company.company')
        Event = pool.get('ticket.event')
        Configuration = pool.get('ticket.configuration')
        company, = Company.search([], limit=1)
        with transaction.set_context(company=company.id):
            if pool.get('ticket.shop.organizer').search([]):
                return
            setup_organizer(company)
            config = Configuration(1)
            config.shop_url = None
            config.save()
            for event in Event.search([('state', '=', 'published')]):
                name = event.name
                if name.startswith('PyCon'):
                    setup_event(event, holder_names='required', questions=[
                            {'name': ("Company", "Société"),
                                'type': 'text', 'scope': 'order'},
                            {'name': ("T-shirt size", "Taille de t-shirt"),
                                'type': 'choice', 'scope': 'attendee',
                                'required': True, 'editable': True,
                                'choices': ("S\nM\nL\nXL", "S\nM\nL\nXL")},
                            {'name': ("Dietary requirements",
                                    "Régime alimentaire"),
                                'type': 'text', 'scope': 'attendee',
                                'editable': True, 'print_on_ticket': True},
                            ])
                elif name.startswith('Jazz'):
                    setup_event(event, questions=[
                            {'name': ("Postal code", "Code postal"),
                                'type': 'text', 'scope': 'order',
                                'required': True, 'pattern': '[0-9]{5}',
                                'help': "5 chiffres / 5 digits"},
                            ])
                else:
                    setup_event(event)
        transaction.commit()
