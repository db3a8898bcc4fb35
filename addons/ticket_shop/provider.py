"""Payment providers of the shop: what the payment page of an order shows,
how a provider's notification becomes a payment, and how money goes back.

Every provider books money through the core service
``ticket.order.payment.record`` (idempotent per provider reference) and
gives it back through ``ticket.order.payment.refund``."""
import hashlib
import hmac
import secrets

from trytond.pool import Pool


def sign(*parts):
    "The signature of parts with the shop secret (hex HMAC-SHA256)"
    Configuration = Pool().get('ticket.configuration')
    key = Configuration.get_shop_secret().encode()
    message = '|'.join(str(p) for p in parts).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def check_signature(signature, *parts):
    return isinstance(signature, str) and hmac.compare_digest(
        signature, sign(*parts))


class Provider:
    "What a kind of payment does in the shop"
    name = None
    #: the buyer pays at once on the payment page (not in days)
    online = True
    template = None

    def page_values(self, order, method, amount_due=None):
        """The values the payment page of order shows; amount_due is what
        is left to pay when the caller knows it already"""
        return {}

    def refund(self, payment, amount):
        """Give amount of payment back; by default someone sends it by hand
        (a pending refund in the back office)"""
        Payment = Pool().get('ticket.order.payment')
        return Payment.refund(payment, amount, state='pending')


class TestProvider(Provider):
    """A card provider for demos and tests: the payment page has a Pay and
    a Decline button; Pay posts a signed notification, exactly like a real
    provider's webhook would (see the notify route)"""
    name = 'test'
    template = 'pay_test.html'

    def new_attempt(self, order, amount_due=None):
        """A signed payment attempt for what is left to pay of order
        (amount_due, computed when None)"""
        reference = 'test_' + secrets.token_urlsafe(18)
        amount = str(order.amount_due if amount_due is None else amount_due)
        return {
            'reference': reference,
            'amount': amount,
            'signature': sign(order.shop_token, reference, amount),
            }

    def page_values(self, order, method, amount_due=None):
        return {'attempt': self.new_attempt(order, amount_due)}

    def notify(self, order, reference, amount, signature):
        """Record the payment of a signed notification; return the payment
        and whether it is new. None when the signature is wrong."""
        from decimal import Decimal
        Payment = Pool().get('ticket.order.payment')
        if not check_signature(signature, order.shop_token, reference,
                amount):
            return None
        payment, created = Payment.record(
            order, 'test', reference, Decimal(amount), method='card')
        if created and payment.state == 'refund_due':
            self.refund(payment, payment.amount)
        return payment, created

    def refund(self, payment, amount):
        "The test provider gives money back at once"
        Payment = Pool().get('ticket.order.payment')
        return Payment.refund(payment, amount,
            reference='test_refund_' + secrets.token_urlsafe(18))


class OfflineProvider(Provider):
    "A bank transfer or a cheque: the organizer records it when received"
    name = 'offline'
    online = False
    template = 'pay_offline.html'


class ManualProvider(Provider):
    "Payments the organizer recorded by hand"
    name = 'manual'
    online = False


PROVIDERS = {p.name: p for p in [
        TestProvider(), OfflineProvider(), ManualProvider()]}


def provider_of(name):
    return PROVIDERS.get(name) or PROVIDERS['manual']


def register(provider):
    "Add a provider (e.g. Stripe when its module is activated)"
    PROVIDERS[provider.name] = provider
