-- Switchboard: grain state for Microsoft.Orleans.Persistence.AdoNet on MariaDB 10.11+ / MySQL 8.
-- The provider ships no SQL: it reads its four statements from OrleansQuery (ReadFromStorageKey,
-- WriteToStorageKey, ClearStorageKey, DeleteStorageKey). Idempotent: safe to apply on every start.
-- Apply with the mariadb command-line client (the procedures need its DELIMITER): deploy/sql/apply.sh.

CREATE TABLE IF NOT EXISTS OrleansQuery (
    QueryKey  VARCHAR(64) NOT NULL,
    QueryText VARCHAR(8000) NOT NULL,
    CONSTRAINT PK_OrleansQuery PRIMARY KEY (QueryKey)
) ENGINE = InnoDB;

-- One row per grain state. The hashes serve the lookup index; the strings settle hash collisions.
-- KeyHash makes a second insert of the same grain (two activations racing) fail instead of duplicating it.
CREATE TABLE IF NOT EXISTS OrleansStorage (
    GrainIdHash            INT NOT NULL,
    GrainIdN0              BIGINT NOT NULL,
    GrainIdN1              BIGINT NOT NULL,
    GrainTypeHash          INT NOT NULL,
    GrainTypeString        VARCHAR(512) NOT NULL,
    GrainIdExtensionString VARCHAR(512) NULL,
    ServiceId              VARCHAR(150) NOT NULL,
    PayloadBinary          LONGBLOB NULL,
    ModifiedOn             DATETIME(3) NOT NULL,
    Version                INT NULL,
    KeyHash BINARY(32) AS (UNHEX(SHA2(CONCAT_WS('|', ServiceId, GrainTypeString, GrainIdN0, GrainIdN1,
        IFNULL(GrainIdExtensionString, '')), 256))) STORED,
    CONSTRAINT UX_OrleansStorage_Key UNIQUE (KeyHash),
    INDEX IX_OrleansStorage (GrainIdHash, GrainTypeHash)
) ENGINE = InnoDB ROW_FORMAT = DYNAMIC;

DELIMITER $$

CREATE OR REPLACE PROCEDURE sb_storage_read(
    IN p_GrainIdHash INT, IN p_GrainIdN0 BIGINT, IN p_GrainIdN1 BIGINT, IN p_GrainTypeHash INT,
    IN p_GrainTypeString VARCHAR(512), IN p_GrainIdExtensionString VARCHAR(512), IN p_ServiceId VARCHAR(150))
BEGIN
    SELECT PayloadBinary, ModifiedOn, Version
    FROM OrleansStorage
    WHERE GrainIdHash = p_GrainIdHash AND GrainTypeHash = p_GrainTypeHash
      AND GrainIdN0 = p_GrainIdN0 AND GrainIdN1 = p_GrainIdN1
      AND GrainTypeString = p_GrainTypeString AND ServiceId = p_ServiceId
      AND GrainIdExtensionString <=> p_GrainIdExtensionString
    LIMIT 1;
END$$

-- Inserts version 1 when the grain never had a row (p_GrainStateVersion NULL), or updates and increments
-- when the stored Version still equals p_GrainStateVersion. Returns the new version; returning the input
-- version unchanged tells Orleans of a conflict (InconsistentStateException).
CREATE OR REPLACE PROCEDURE sb_storage_write(
    IN p_GrainIdHash INT, IN p_GrainIdN0 BIGINT, IN p_GrainIdN1 BIGINT, IN p_GrainTypeHash INT,
    IN p_GrainTypeString VARCHAR(512), IN p_GrainIdExtensionString VARCHAR(512), IN p_ServiceId VARCHAR(150),
    IN p_GrainStateVersion INT, IN p_PayloadBinary LONGBLOB)
BEGIN
    DECLARE v_changed INT DEFAULT 0;
    DECLARE v_duplicate INT DEFAULT 0;
    DECLARE CONTINUE HANDLER FOR 1062 SET v_duplicate = 1;
    DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END;

    START TRANSACTION;
    IF p_GrainStateVersion IS NULL THEN
        INSERT INTO OrleansStorage (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString,
            GrainIdExtensionString, ServiceId, PayloadBinary, ModifiedOn, Version)
        VALUES (p_GrainIdHash, p_GrainIdN0, p_GrainIdN1, p_GrainTypeHash, p_GrainTypeString,
            p_GrainIdExtensionString, p_ServiceId, p_PayloadBinary, UTC_TIMESTAMP(3), 1);
        IF v_duplicate = 0 THEN
            SET v_changed = 1;
        END IF;
    ELSE
        UPDATE OrleansStorage
        SET PayloadBinary = p_PayloadBinary, ModifiedOn = UTC_TIMESTAMP(3), Version = Version + 1
        WHERE GrainIdHash = p_GrainIdHash AND GrainTypeHash = p_GrainTypeHash
          AND GrainIdN0 = p_GrainIdN0 AND GrainIdN1 = p_GrainIdN1
          AND GrainTypeString = p_GrainTypeString AND ServiceId = p_ServiceId
          AND GrainIdExtensionString <=> p_GrainIdExtensionString
          AND Version = p_GrainStateVersion;
        SET v_changed = ROW_COUNT();
    END IF;
    COMMIT;

    SELECT CASE WHEN v_changed > 0 THEN IFNULL(p_GrainStateVersion, 0) + 1 ELSE p_GrainStateVersion END
        AS NewGrainStateVersion;
END$$

-- Clears the payload under the same version check and increments the version.
CREATE OR REPLACE PROCEDURE sb_storage_clear(
    IN p_GrainIdHash INT, IN p_GrainIdN0 BIGINT, IN p_GrainIdN1 BIGINT, IN p_GrainTypeHash INT,
    IN p_GrainTypeString VARCHAR(512), IN p_GrainIdExtensionString VARCHAR(512), IN p_ServiceId VARCHAR(150),
    IN p_GrainStateVersion INT)
BEGIN
    DECLARE v_changed INT DEFAULT 0;
    DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END;

    START TRANSACTION;
    UPDATE OrleansStorage
    SET PayloadBinary = NULL, ModifiedOn = UTC_TIMESTAMP(3), Version = Version + 1
    WHERE GrainIdHash = p_GrainIdHash AND GrainTypeHash = p_GrainTypeHash
      AND GrainIdN0 = p_GrainIdN0 AND GrainIdN1 = p_GrainIdN1
      AND GrainTypeString = p_GrainTypeString AND ServiceId = p_ServiceId
      AND GrainIdExtensionString <=> p_GrainIdExtensionString
      AND p_GrainStateVersion IS NOT NULL AND Version = p_GrainStateVersion;
    SET v_changed = ROW_COUNT();
    COMMIT;

    SELECT CASE WHEN v_changed > 0 THEN p_GrainStateVersion + 1 ELSE p_GrainStateVersion END
        AS NewGrainStateVersion;
END$$

-- Removes the row under the same version check.
CREATE OR REPLACE PROCEDURE sb_storage_delete(
    IN p_GrainIdHash INT, IN p_GrainIdN0 BIGINT, IN p_GrainIdN1 BIGINT, IN p_GrainTypeHash INT,
    IN p_GrainTypeString VARCHAR(512), IN p_GrainIdExtensionString VARCHAR(512), IN p_ServiceId VARCHAR(150),
    IN p_GrainStateVersion INT)
BEGIN
    DECLARE v_changed INT DEFAULT 0;
    DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END;

    START TRANSACTION;
    DELETE FROM OrleansStorage
    WHERE GrainIdHash = p_GrainIdHash AND GrainTypeHash = p_GrainTypeHash
      AND GrainIdN0 = p_GrainIdN0 AND GrainIdN1 = p_GrainIdN1
      AND GrainTypeString = p_GrainTypeString AND ServiceId = p_ServiceId
      AND GrainIdExtensionString <=> p_GrainIdExtensionString
      AND p_GrainStateVersion IS NOT NULL AND Version = p_GrainStateVersion;
    SET v_changed = ROW_COUNT();
    COMMIT;

    SELECT CASE WHEN v_changed > 0 THEN p_GrainStateVersion + 1 ELSE p_GrainStateVersion END
        AS NewGrainStateVersion;
END$$

DELIMITER ;

REPLACE INTO OrleansQuery (QueryKey, QueryText) VALUES
('ReadFromStorageKey', 'CALL sb_storage_read(@GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString, @GrainIdExtensionString, @ServiceId)'),
('WriteToStorageKey', 'CALL sb_storage_write(@GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString, @GrainIdExtensionString, @ServiceId, @GrainStateVersion, @PayloadBinary)'),
('ClearStorageKey', 'CALL sb_storage_clear(@GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString, @GrainIdExtensionString, @ServiceId, @GrainStateVersion)'),
('DeleteStorageKey', 'CALL sb_storage_delete(@GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString, @GrainIdExtensionString, @ServiceId, @GrainStateVersion)');
