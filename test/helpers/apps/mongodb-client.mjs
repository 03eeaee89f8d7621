// Traced MongoDB client for test/integration/db-mongo.test.ts: the official `mongodb` driver
// (one pooled connection, zlib compression when argv[3] is "zlib") doing CRUD, a cursor read in
// batches (find + getMore), a duplicate-key write error and an unknown command. Prints a summary.
import { MongoClient } from 'mongodb';

const port = Number(process.argv[2]);
const compressors = process.argv[3] === 'zlib' ? ['zlib'] : [];
const client = new MongoClient(`mongodb://127.0.0.1:${port}/?directConnection=true`, { maxPoolSize: 1, compressors, serverSelectionTimeoutMS: 10000 });
await client.connect();
const users = client.db('shop').collection('users');
await users.insertOne({ _id: 1, name: 'ada', email: 'ada@example.com' });
await users.insertMany([{ _id: 2, name: 'bob' }, { _id: 3, name: 'cyd' }, { _id: 4, name: 'dee' }]);
let dupCode = 0;
try {
  await users.insertOne({ _id: 1, name: 'again' });
} catch (err) {
  dupCode = err.code;
}
const all = await users.find({}, { batchSize: 2 }).toArray();
const upd = await users.updateOne({ _id: 2 }, { $set: { name: 'bobby' } });
const del = await users.deleteOne({ _id: 3 });
const count = await users.estimatedDocumentCount();
let unknownCode = 0;
try {
  await client.db('shop').command({ frobnicate: 1 });
} catch (err) {
  unknownCode = err.code;
}
await client.close();
console.log(JSON.stringify({ found: all.length, modified: upd.modifiedCount, deleted: del.deletedCount, count, dupCode, unknownCode }));
