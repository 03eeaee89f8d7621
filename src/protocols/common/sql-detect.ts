/**
 * Does a text start an SQL statement? The SQL protocols' detection of a connection seen mid-way
 * (a PostgreSQL Query / Parse, a MySQL COM_QUERY / COM_STMT_PREPARE) asks it of the bytes where
 * the statement would be. Any leading word would let binary bytes that happen to start with a
 * letter pass for a query (a MongoDB header's random requestID did), so the statement's first
 * keyword must be one a statement starts with.
 */
import { sqlOperation, type SqlDialect } from './sql.ts';

/** the words PostgreSQL's and MySQL / MariaDB's statements start with (their lists of SQL statements) */
const STATEMENT_WORDS: ReadonlySet<string> = new Set(
  (
    'ABORT ALTER ANALYSE ANALYZE BACKUP BEGIN BINLOG CACHE CALL CHANGE CHECK CHECKPOINT CHECKSUM CLONE CLOSE CLUSTER COMMENT ' +
    'COMMIT COPY CREATE DEALLOCATE DECLARE DELETE DESC DESCRIBE DISCARD DO DROP END EXECUTE EXPLAIN FETCH FLUSH GET GRANT ' +
    'HANDLER HELP IMPORT INSERT INSTALL KILL LISTEN LOAD LOCK MERGE MOVE NOTIFY OPTIMIZE PREPARE PURGE REASSIGN REFRESH ' +
    'REINDEX RELEASE RENAME REPAIR REPLACE RESET RESIGNAL RESTART REVOKE ROLLBACK SAVEPOINT SECURITY SELECT SET SHOW SHUTDOWN ' +
    'SIGNAL START STOP TABLE TRUNCATE UNINSTALL UNLISTEN UNLOCK UPDATE USE VACUUM VALUES WITH XA'
  ).split(' '),
);

/** Does `text` start (after blanks, comments and opening parentheses) with a word an SQL statement starts with? */
export function looksLikeSql(text: string, dialect: SqlDialect = 'postgresql'): boolean {
  const op = sqlOperation(text.length > 256 ? text.slice(0, 256) : text, dialect);
  return op !== undefined && STATEMENT_WORDS.has(op);
}
