-- Trunks, outbound routes and inbound numbers (issue 15): the SIP providers that carry calls to
-- and from the outside world, which dialled numbers go out through which trunks, and which
-- numbers the outside world may call us on. The checks repeat the application's validation
-- (the rules of trunks, routes and inbound numbers), so that no stored row can render into
-- broken Asterisk configuration or give call control something other than digits to dial.
--
-- A trunk's name names its Asterisk objects (trunk-<name>). Its password is kept reversibly,
-- unlike users' SIP passwords (see 00001_users.sql): Asterisk answers the provider's
-- challenges with it, so it must be able to read it back. It never appears in an error
-- message: the checks that refuse it name their constraint only.
--
-- The dial patterns, trunks and users of a route are rows of child tables, in order where
-- order matters. A route's trunk references trunks and a deleted trunk is refused while a route
-- uses it (ON DELETE RESTRICT), as it is while an inbound number is received on it only: the
-- statement that deletes the trunk finds both, without a race. A route's user references users
-- and a deleted user leaves every route in the transaction that deletes them, as they leave
-- groups (see 00007_groups.sql).
--
-- Inbound numbers are the provider's numbers, not numbers of our plan: they claim nothing in
-- numbers (see 00006_rooms.sql), and where they send a call is checked to be digits here and to
-- be somebody's number by the application.
--
-- Users get the number sent to the outside world on their calls, and call records say whether
-- a call crossed a trunk, which one, and the number of its party outside.

-- +goose Up

-- CHECK constraints take no subqueries, so the rules on every element of an array (and that
-- no element is there twice) are functions. They are IMMUTABLE: they read nothing but their
-- arguments.
-- +goose StatementBegin
CREATE FUNCTION text_array_all_match(a text[], pattern text) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT NOT EXISTS (SELECT 1 FROM unnest(a) x WHERE x IS NULL OR x !~ pattern)
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION text_array_distinct(a text[]) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT count(DISTINCT x) = cardinality(a) FROM unnest(a) x
$$;
-- +goose StatementEnd

CREATE TABLE trunks (
    name          text        PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,31}$'),
    -- A host name or an IPv4 address: letters, digits, dots and hyphens, neither first nor last.
    host          text        NOT NULL CHECK (host ~ '^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$'),
    port          integer     NOT NULL DEFAULT 5060 CHECK (port BETWEEN 1 AND 65535),
    transport     text        NOT NULL DEFAULT 'udp' CHECK (transport IN ('udp', 'tcp')),
    auth          text        NOT NULL DEFAULT 'register' CHECK (auth IN ('register', 'ip')),
    username      text        NOT NULL DEFAULT '',
    -- The provider's password in the clear, reversibly: Asterisk answers the provider's
    -- challenges with it. Only the control plane and Asterisk read it.
    password      text        NOT NULL DEFAULT '',
    -- The networks besides host that inbound calls may come from: IPv4 addresses or CIDRs.
    addresses     text[]      NOT NULL DEFAULT '{}',
    -- Asterisk's names of the codecs offered, in order of preference.
    codecs        text[]      NOT NULL DEFAULT '{ulaw,alaw}',
    caller_id     text        NOT NULL DEFAULT '' CHECK (caller_id ~ '^(\+?[0-9]{2,20})?$'),
    send_pai      boolean     NOT NULL DEFAULT false,
    channel_limit integer     NOT NULL DEFAULT 0 CHECK (channel_limit BETWEEN 0 AND 10000),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    -- Registering needs an account at the provider; a trunk that knows us by our address has
    -- none, and keeps no password it would never use.
    CONSTRAINT trunks_credentials CHECK (CASE WHEN auth = 'register'
        THEN username ~ '^[A-Za-z0-9._+-]{1,64}$' AND password ~ '^[A-Za-z0-9!%*+,./:=?@^_~-]{8,128}$'
        ELSE username = '' AND password = '' END),
    CONSTRAINT trunks_addresses CHECK (cardinality(addresses) <= 16
        AND text_array_all_match(addresses,
            '^(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}(/(3[0-2]|[12]?[0-9]))?$')
        AND text_array_distinct(addresses)),
    CONSTRAINT trunks_codecs CHECK (cardinality(codecs) BETWEEN 1 AND 4
        AND text_array_all_match(codecs, '^(ulaw|alaw|g722|gsm)$')
        AND text_array_distinct(codecs))
);

-- Outbound routes, tried in position order (then by name); an emergency route before any
-- other, which call control sees to.
CREATE TABLE outbound_routes (
    name       text        PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,31}$'),
    position   integer     NOT NULL CHECK (position BETWEEN 0 AND 100000),
    emergency  boolean     NOT NULL DEFAULT false,
    caller_id  text        NOT NULL DEFAULT '' CHECK (caller_id ~ '^(\+?[0-9]{2,20})?$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX outbound_routes_order ON outbound_routes (position, name COLLATE "C");

-- The dial patterns of a route, in order (position ascending): prefix is dialled first and
-- stripped, then a number that matches match (Asterisk's pattern letters, upper case), sent
-- with prepend before it.
CREATE TABLE route_patterns (
    route_name text    NOT NULL,
    position   integer NOT NULL CHECK (position >= 0),
    prefix     text    NOT NULL CHECK (prefix ~ '^[0-9*#]{0,8}$'),
    match      text    NOT NULL CHECK (char_length(match) <= 32
                                       AND match ~ '^\+?([0-9XZN]|\[[0-9](-[0-9])?([0-9](-[0-9])?)*\])+\.?$'),
    prepend    text    NOT NULL CHECK (prepend ~ '^\+?[0-9]{0,8}$'),
    CONSTRAINT route_patterns_route_name_fkey FOREIGN KEY (route_name)
        REFERENCES outbound_routes (name) ON DELETE CASCADE,
    PRIMARY KEY (route_name, position),
    -- The same number dialled the same way could go only by the first of two patterns.
    CONSTRAINT route_patterns_unique UNIQUE (route_name, prefix, match)
);

-- The trunks of a route, in failover order (position ascending).
CREATE TABLE route_trunks (
    route_name text    NOT NULL,
    position   integer NOT NULL CHECK (position >= 0),
    trunk_name text    NOT NULL,
    CONSTRAINT route_trunks_route_name_fkey FOREIGN KEY (route_name)
        REFERENCES outbound_routes (name) ON DELETE CASCADE,
    CONSTRAINT route_trunks_trunk_name_fkey FOREIGN KEY (trunk_name)
        REFERENCES trunks (name) ON DELETE RESTRICT,
    PRIMARY KEY (route_name, trunk_name),
    UNIQUE (route_name, position)
);

-- Deleting a trunk looks up the routes that use it.
CREATE INDEX route_trunks_trunk_name ON route_trunks (trunk_name);

-- The users allowed to use a route; none: everyone. A set: read in the order of extensions.
CREATE TABLE route_users (
    route_name text NOT NULL,
    extension  text NOT NULL,
    CONSTRAINT route_users_route_name_fkey FOREIGN KEY (route_name)
        REFERENCES outbound_routes (name) ON DELETE CASCADE,
    CONSTRAINT route_users_extension_fkey FOREIGN KEY (extension)
        REFERENCES users (extension) ON DELETE CASCADE,
    PRIMARY KEY (route_name, extension)
);

-- Deleting a user looks up their routes by extension.
CREATE INDEX route_users_extension ON route_users (extension);

-- Inbound numbers (DIDs), and where a call to each goes. trunk is NULL when the number is
-- accepted from any trunk.
CREATE TABLE inbound_numbers (
    number             text        PRIMARY KEY CHECK (number ~ '^\+?[0-9]{2,20}$'),
    name               text        NOT NULL DEFAULT '' CHECK (char_length(name) <= 64
                                                              AND name !~ '[[:cntrl:];\[\]#",=<>\\${}]'),
    trunk              text,
    destination_kind   text        NOT NULL CHECK (destination_kind IN ('hangup', 'voicemail', 'number')),
    destination_number text        NOT NULL DEFAULT '',
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT inbound_numbers_trunk_fkey FOREIGN KEY (trunk)
        REFERENCES trunks (name) ON DELETE RESTRICT,
    -- Hanging up goes nowhere; a mailbox or a number is one of the plan.
    CONSTRAINT inbound_numbers_destination_number CHECK (CASE WHEN destination_kind = 'hangup'
        THEN destination_number = '' ELSE destination_number ~ '^[0-9]{2,6}$' END)
);

-- Deleting a trunk looks up the numbers received on it only.
CREATE INDEX inbound_numbers_trunk ON inbound_numbers (trunk) WHERE trunk IS NOT NULL;

-- The number a user's calls to the outside world send ('' for the route's or the trunk's).
ALTER TABLE users
    ADD COLUMN outbound_caller_id text NOT NULL DEFAULT '' CHECK (outbound_caller_id ~ '^(\+?[0-9]{2,20})?$');

-- Whether a call stayed inside or crossed a trunk; the trunk ('' for none) and the number of
-- the party outside ('' for none).
ALTER TABLE calls
    ADD COLUMN direction text NOT NULL DEFAULT 'internal' CHECK (direction IN ('internal', 'outbound', 'inbound')),
    ADD COLUMN trunk text NOT NULL DEFAULT '',
    ADD COLUMN external text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE calls DROP COLUMN external, DROP COLUMN trunk, DROP COLUMN direction;
ALTER TABLE users DROP COLUMN outbound_caller_id;
DROP TABLE inbound_numbers;
DROP TABLE route_users;
DROP TABLE route_trunks;
DROP TABLE route_patterns;
DROP TABLE outbound_routes;
DROP TABLE trunks;
DROP FUNCTION text_array_distinct(text[]);
DROP FUNCTION text_array_all_match(text[], text);
