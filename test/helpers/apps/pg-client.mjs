// Traced PostgreSQL client for test/integration/db-postgres.test.ts: node-postgres with a named
// prepared statement executed three times, unnamed extended queries, a simple query and two
// deliberate errors. Prints what it saw.
import pg from 'pg';

const [port, database] = [Number(process.argv[2]), process.argv[3]];
const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database });
await c.connect();
const names = [];
for (let id = 1; id <= 3; id++) {
  const r = await c.query({ name: 'get-contact', text: 'SELECT name FROM accounting.contacts WHERE id = $1', values: [id] });
  names.push(r.rows[0]?.name);
}
await c.query('INSERT INTO accounting.contacts (id, name) VALUES ($1, $2)', [100, 'zed']);
await c.query("UPDATE accounting.contacts SET name = 'zoe' WHERE id = 100");
const errors = [];
try {
  await c.query('SELECT * FROM no_such_table WHERE id = $1', [1]);
} catch (err) {
  errors.push(err.code);
}
try {
  await c.query('INSERT INTO accounting.contacts (id, name) VALUES ($1, $2)', [1, 'dup']);
} catch (err) {
  errors.push(err.code);
}
await c.end();
console.log(JSON.stringify({ names, errors }));
