-- E-mail (电子邮件) as an outbox channel.
--
-- Each user may have an e-mail address ('' = none); a notification to a user with an address
-- is also e-mailed when the [notify] settings name an SMTP relay. The relay in effect is one
-- row of outbox_targets (channel 'email', url 'smtp://host:port'), written at startup like the
-- robots; an e-mail row of the outbox holds the recipient's address in url.
ALTER TABLE users ADD COLUMN email TEXT NOT NULL DEFAULT '';

-- 'email' allowed as a channel (the constraints carry PostgreSQL's default names). Two
-- columns for the outbox page: the recipient user of a per-person row, and the notification's
-- title (rows written before this migration have neither).
ALTER TABLE outbox_targets DROP CONSTRAINT outbox_targets_channel_check;
ALTER TABLE outbox_targets ADD CONSTRAINT outbox_targets_channel_check
    CHECK (channel IN ('webhook', 'wecom', 'dingtalk', 'email'));
ALTER TABLE outbox DROP CONSTRAINT outbox_channel_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_channel_check
    CHECK (channel IN ('webhook', 'wecom', 'dingtalk', 'email'));
ALTER TABLE outbox ADD COLUMN user_id BIGINT;
ALTER TABLE outbox ADD COLUMN title TEXT NOT NULL DEFAULT '';
