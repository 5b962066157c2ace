-- Payment flows (PayPal subscriptions, NOWPayments monthly invoices): what a checkout
-- created, the provider's objects made on start-up, and why a subscription ended.

-- Why a subscription stops or stopped: 'cancelled', 'suspended', 'refunded',
-- 'period_ended', 'replaced'. `renews` false: it runs to its period end, then ends.
ALTER TABLE subscriptions
    ADD COLUMN renews      boolean NOT NULL DEFAULT true,
    ADD COLUMN end_reason  text,
    ADD COLUMN ended_at    timestamptz;

-- A payment's provider status ('waiting', 'partially_paid', 'APPROVAL_PENDING', …), the
-- page the customer pays on, our reference sent to the provider (PayPal custom_id,
-- NOWPayments order_id), the provider subscription a PayPal sale belongs to, and when
-- the payment extended a subscription (once).
ALTER TABLE payments DROP CONSTRAINT payments_status_check;
ALTER TABLE payments ADD CONSTRAINT payments_status_check
    CHECK (status IN ('created', 'pending', 'partially_paid', 'completed', 'failed', 'refunded', 'expired'));
ALTER TABLE payments
    ADD COLUMN kind                      text NOT NULL DEFAULT 'checkout' CHECK (kind IN ('checkout', 'sale')),
    ADD COLUMN provider_status           text,
    ADD COLUMN checkout_url              text,
    ADD COLUMN reference                 text UNIQUE,
    ADD COLUMN provider_subscription_id  text,
    ADD COLUMN granted_at                timestamptz;
CREATE INDEX payments_provider_subscription_idx ON payments (provider, provider_subscription_id)
    WHERE provider_subscription_id IS NOT NULL;

-- Objects made at the provider once and reused (PayPal's product and a billing plan per
-- paid tier), so a restart finds them instead of creating new ones.
CREATE TABLE payment_provider_objects (
    provider     text NOT NULL CHECK (provider IN ('paypal', 'nowpayments')),
    kind         text NOT NULL,
    key          text NOT NULL,
    external_id  text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, kind, key)
);
