// Traced MySQL client for test/integration/db-mysql.test.ts: mysql2 with prepared statements
// (execute: COM_STMT_PREPARE once, then COM_STMT_EXECUTE), a plain query, a deliberate error,
// and changeUser-free database switch with USE. Prints what it saw.
import mysql from 'mysql2/promise';

const [port, password] = [Number(process.argv[2]), process.argv[3]];
const c = await mysql.createConnection({ host: '127.0.0.1', port, user: 'obi', password, database: 'shop' });
const names = [];
for (const id of [1, 2, 3]) {
  const [rows] = await c.execute('SELECT name FROM customers WHERE id = ?', [id]);
  names.push(rows[0]?.name);
}
await c.execute('UPDATE customers SET name = ? WHERE id = ?', ['zed', 3]);
const [r] = await c.query("SELECT COUNT(*) AS n FROM customers WHERE name <> 'nobody' AND id < 5");
const errors = [];
try {
  await c.execute('SELECT * FROM no_such_table WHERE id = ?', [1]);
} catch (err) {
  errors.push(`${err.errno}/${err.sqlState}`);
}
try {
  await c.query("INSERT INTO customers (id, name) VALUES (1, 'dup')");
} catch (err) {
  errors.push(`${err.errno}/${err.sqlState}`);
}
await c.query('USE archive');
await c.query('SELECT id FROM old_orders');
await c.end();
console.log(JSON.stringify({ names, count: r[0].n, errors }));
