-- Plans and subscriptions. A plan decides limits, features and queue priority.

CREATE TABLE plans (
    id                          text PRIMARY KEY CHECK (id IN ('free', 'pro', 'elite')),
    name                        text NOT NULL,
    price_cents                 integer NOT NULL CHECK (price_cents >= 0),
    currency                    text NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
    max_pairs                   integer NOT NULL CHECK (max_pairs >= 0),
    max_destinations_per_pair   integer NOT NULL CHECK (max_destinations_per_pair >= 1),
    max_accounts                integer NOT NULL CHECK (max_accounts >= 0),
    daily_messages              integer NOT NULL CHECK (daily_messages >= 0),
    priority                    text NOT NULL CHECK (priority IN ('high', 'medium', 'low')),
    -- Rule features the plan unlocks, e.g. {"filters": true, "transforms": true}.
    features                    jsonb NOT NULL DEFAULT '{}'::jsonb,
    updated_at                  timestamptz NOT NULL DEFAULT now()
);

INSERT INTO plans (id, name, price_cents, max_pairs, max_destinations_per_pair, max_accounts, daily_messages, priority, features) VALUES
    ('free',  'Free',     0,   2,  1,   2,    200, 'low',
        '{"filters": false, "transforms": false, "edits": false, "media": true,  "webhooks": true}'),
    ('pro',   'Pro',    900,  20,  5,  10,  20000, 'medium',
        '{"filters": true,  "transforms": true,  "edits": true,  "media": true,  "webhooks": true}'),
    ('elite', 'Elite', 2900, 200, 25,  50, 500000, 'high',
        '{"filters": true,  "transforms": true,  "edits": true,  "media": true,  "webhooks": true}');

CREATE TABLE subscriptions (
    id                        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id                   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    plan_id                   text NOT NULL REFERENCES plans (id),
    status                    text NOT NULL CHECK (status IN ('active', 'past_due', 'canceled', 'expired')),
    current_period_start      timestamptz NOT NULL DEFAULT now(),
    current_period_end        timestamptz,
    provider                  text CHECK (provider IN ('paypal', 'nowpayments', 'admin')),
    provider_subscription_id  text,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now()
);
-- At most one live subscription per user; without one a user is on Free.
CREATE UNIQUE INDEX subscriptions_one_live_per_user ON subscriptions (user_id) WHERE status IN ('active', 'past_due');
CREATE UNIQUE INDEX subscriptions_provider_key ON subscriptions (provider, provider_subscription_id)
    WHERE provider_subscription_id IS NOT NULL;
CREATE INDEX subscriptions_period_end_idx ON subscriptions (current_period_end) WHERE status = 'active';

-- Messages forwarded per user and day, for quotas and analytics.
CREATE TABLE usage_daily (
    user_id             uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    day                 date NOT NULL,
    messages_forwarded  bigint NOT NULL DEFAULT 0 CHECK (messages_forwarded >= 0),
    messages_failed     bigint NOT NULL DEFAULT 0 CHECK (messages_failed >= 0),
    bytes_forwarded     bigint NOT NULL DEFAULT 0 CHECK (bytes_forwarded >= 0),
    PRIMARY KEY (user_id, day)
);
