-- Shared mailboxes: a ring group or a call queue may have a voicemail box of its own, numbered
-- like the group or queue, which its no-answer destination names (voicemail to its own number)
-- and its members or agents listen to with *98. The columns are those of users' mailboxes (see
-- 00001_users.sql), with their checks: the PIN is 4 to 10 digits or none, and a mailbox that is
-- on has one. A mailbox that is off keeps its PIN, as a user's does.
--
-- A group or queue still may not send its calls to its own number (see 00007_groups.sql and
-- 00008_queues.sql), except to its own mailbox, and only while that mailbox is on: the checks
-- repeat the application's validation (provisioning's ValidateGroup and ValidateQueue).

-- +goose Up
ALTER TABLE groups
    ADD COLUMN voicemail_enabled boolean NOT NULL DEFAULT false,
    ADD COLUMN voicemail_pin text NOT NULL DEFAULT '' CHECK (voicemail_pin ~ '^([0-9]{4,10})?$'),
    ADD CONSTRAINT groups_voicemail_pin_set CHECK (NOT voicemail_enabled OR voicemail_pin <> ''),
    DROP CONSTRAINT groups_no_answer_not_self,
    ADD CONSTRAINT groups_no_answer_not_self CHECK (no_answer_number <> number
                                                    OR (no_answer_kind = 'voicemail' AND voicemail_enabled));

ALTER TABLE queues
    ADD COLUMN voicemail_enabled boolean NOT NULL DEFAULT false,
    ADD COLUMN voicemail_pin text NOT NULL DEFAULT '' CHECK (voicemail_pin ~ '^([0-9]{4,10})?$'),
    ADD CONSTRAINT queues_voicemail_pin_set CHECK (NOT voicemail_enabled OR voicemail_pin <> ''),
    DROP CONSTRAINT queues_no_answer_not_self,
    ADD CONSTRAINT queues_no_answer_not_self CHECK (no_answer_number <> number
                                                    OR (no_answer_kind = 'voicemail' AND voicemail_enabled));

-- +goose Down
-- Without their mailboxes, groups and queues that sent their calls there hang up instead: the
-- earlier schema has no other place for them.
UPDATE groups SET no_answer_kind = 'hangup', no_answer_number = '' WHERE no_answer_number = number;
ALTER TABLE groups
    DROP CONSTRAINT groups_no_answer_not_self,
    ADD CONSTRAINT groups_no_answer_not_self CHECK (no_answer_number <> number),
    DROP CONSTRAINT groups_voicemail_pin_set,
    DROP COLUMN voicemail_pin,
    DROP COLUMN voicemail_enabled;

UPDATE queues SET no_answer_kind = 'hangup', no_answer_number = '' WHERE no_answer_number = number;
ALTER TABLE queues
    DROP CONSTRAINT queues_no_answer_not_self,
    ADD CONSTRAINT queues_no_answer_not_self CHECK (no_answer_number <> number),
    DROP CONSTRAINT queues_voicemail_pin_set,
    DROP COLUMN voicemail_pin,
    DROP COLUMN voicemail_enabled;
