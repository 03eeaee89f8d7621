import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskSql, sqlOperation, sqlSummary } from './sql.ts';
import { looksLikeSql } from './sql-detect.ts';

test('operation and table of common statements', () => {
  const cases: [string, string | undefined, string | undefined][] = [
    ['SELECT * FROM accounting.contacts WHERE id = 1', 'SELECT', 'accounting.contacts'],
    ['select name from users', 'SELECT', 'users'],
    ['  \n-- comment\nSELECT 1', 'SELECT', undefined],
    ['/* hint */ SELECT a FROM "My Table"', 'SELECT', 'My Table'],
    ['SELECT (SELECT max(x) FROM inner_t) AS m FROM outer_t', 'SELECT', 'outer_t'],
    ['SELECT * FROM (SELECT 1) AS sub', 'SELECT', undefined],
    ['(SELECT a FROM t1) UNION (SELECT a FROM t2)', 'SELECT', 't1'],
    ['INSERT INTO orders (id, total) VALUES (1, 2.5)', 'INSERT', 'orders'],
    ['REPLACE INTO kv VALUES (1, 2)', 'REPLACE', 'kv'],
    ['UPDATE public.users SET name = $1 WHERE id = $2', 'UPDATE', 'public.users'],
    ['UPDATE LOW_PRIORITY t SET a = 1', 'UPDATE', 't'],
    ['DELETE FROM sessions WHERE expires < now()', 'DELETE', 'sessions'],
    ['DELETE FROM ONLY parent', 'DELETE', 'parent'],
    ['CREATE TABLE IF NOT EXISTS contacts (id int)', 'CREATE', 'contacts'],
    ['CREATE TEMPORARY TABLE tmp1 (x int)', 'CREATE', 'tmp1'],
    ['CREATE INDEX i ON t (a)', 'CREATE', undefined],
    ['DROP TABLE IF EXISTS a.b', 'DROP', 'a.b'],
    ['ALTER TABLE t ADD COLUMN c int', 'ALTER', 't'],
    ['TRUNCATE TABLE logs', 'TRUNCATE', 'logs'],
    ['COPY items FROM STDIN', 'COPY', 'items'],
    ['COPY (SELECT 1) TO STDOUT', 'COPY', undefined],
    ['WITH recent AS (SELECT * FROM events) SELECT * FROM recent_view', 'SELECT', 'recent_view'],
    ['WITH x AS (SELECT 1) DELETE FROM t USING x', 'DELETE', 't'],
    ['BEGIN', 'BEGIN', undefined],
    ['commit', 'COMMIT', undefined],
    ['SET search_path = public', 'SET', undefined],
    ['select @@version_comment limit 1', 'SELECT', undefined],
    ['SELECT * FROM t1, t2', 'SELECT', 't1'],
    ["SELECT 'FROM x' FROM real_t", 'SELECT', 'real_t'],
    ['', undefined, undefined],
    ['   ', undefined, undefined],
    ['123', undefined, undefined],
  ];
  for (const [sql, op, table] of cases) {
    const s = sqlSummary(sql);
    assert.equal(s.operation, op, sql);
    assert.equal(s.collection, table, sql);
  }
  assert.equal(sqlOperation('  update x set y=1'), 'UPDATE');
  assert.equal(sqlSummary('SELECT * FROM `db`.`t` # c', 'mysql').collection, 'db.t');
  assert.deepEqual(sqlSummary('INSERT IGNORE INTO `shop`.`orders` VALUES (1)', 'mysql'), { operation: 'INSERT', collection: 'shop.orders' });
});

test('literals are masked: strings, numbers, hex, dollar-quoted; parameters and identifiers kept', () => {
  assert.equal(maskSql("SELECT * FROM users WHERE email = 'a@b.c' AND age > 42"), 'SELECT * FROM users WHERE email = ? AND age > ?');
  assert.equal(maskSql("INSERT INTO t VALUES ('it''s', -1.5e3, 0xFF, E'a\\'b')"), 'INSERT INTO t VALUES (?, -?, ?, ?)');
  assert.equal(maskSql('SELECT $1, $2 FROM t1 WHERE col_2 = 7'), 'SELECT $1, $2 FROM t1 WHERE col_2 = ?');
  assert.equal(maskSql('SELECT $$secret$$, $tag$x$tag$'), 'SELECT ?, ?');
  assert.equal(maskSql('SELECT "Col" FROM "T" WHERE x = .5'), 'SELECT "Col" FROM "T" WHERE x = ?');
  assert.equal(maskSql('SELECT "secret" FROM t WHERE x = ?', 'mysql'), 'SELECT ? FROM t WHERE x = ?');
  assert.equal(maskSql("SELECT 'a\\'b' FROM t", 'mysql'), 'SELECT ? FROM t');
  assert.equal(maskSql("SELECT x'0A', b'01', N'name' FROM t", 'mysql'), 'SELECT ?, ?, ? FROM t');
  assert.equal(maskSql("SELECT 'unterminated"), 'SELECT ?');
  assert.equal(maskSql('-- keep 1\nSELECT 1'), '-- keep 1\nSELECT ?');
  assert.equal(maskSql('SELECT now()'), 'SELECT now()');
  assert.equal(maskSql(''), '');
});

test('looksLikeSql', () => {
  assert.equal(looksLikeSql('SELECT 1'), true);
  assert.equal(looksLikeSql('  (select 1)'), true);
  assert.equal(looksLikeSql('\x00\x01'), false);
  assert.equal(looksLikeSql(''), false);
  assert.equal(looksLikeSql('with recent as (select 1) select * from recent'), true);
  assert.equal(looksLikeSql('/* app */ INSERT INTO t VALUES (1)', 'mysql'), true);
  assert.equal(looksLikeSql('XA START \'x\'', 'mysql'), true);
  assert.equal(looksLikeSql('D\u0000U\u0000'), false, 'a word, but no statement starts with it');
  assert.equal(looksLikeSql('SELECTED 1'), false);
  assert.equal(looksLikeSql('selectx'), false);
});

test('total on arbitrary input', () => {
  for (let i = 0; i < 2000; i++) {
    const s = Array.from({ length: i % 60 }, () => String.fromCharCode(Math.floor(Math.random() * 128))).join('');
    sqlSummary(s);
    sqlSummary(s, 'mysql');
    assert.equal(typeof maskSql(s), 'string');
    maskSql(s, 'mysql');
  }
});
