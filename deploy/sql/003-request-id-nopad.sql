-- Switchboard migration 3: request ids compare byte for byte.
-- utf8mb4_bin is a PAD SPACE collation: 'x' and 'x ' were one key of UX_sb_messages_request, so a send with
-- id "x " after "x" by the same sender was answered with the first message's receipt and never stored.
-- NO PAD only loosens that unique key (no two stored rows can collide under it), so this cannot fail on existing
-- rows; it rebuilds the unique index, in place, while the silos keep writing. Re-running it changes nothing.
ALTER TABLE sb_messages
    MODIFY request_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL,
    ALGORITHM = INPLACE, LOCK = NONE;
