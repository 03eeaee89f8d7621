# Traced MongoDB client for test/integration/db-mongo.test.ts: Debian's pymongo (3.11) doing CRUD,
# an exhaust cursor (OP_MSG exhaustAllowed, streamed replies), a duplicate-key error and an unknown
# command. argv: port, compressors ("zlib" or "none"). Prints a summary as JSON.
import json
import sys

import pymongo
from pymongo import CursorType, MongoClient
from pymongo.errors import DuplicateKeyError, OperationFailure

port = int(sys.argv[1])
kw = {"compressors": "zlib"} if sys.argv[2] == "zlib" else {}
client = MongoClient("127.0.0.1", port, directConnection=True, maxPoolSize=1, serverSelectionTimeoutMS=10000, **kw)
inv = client["inventory"]["items"]
inv.insert_many([{"_id": i, "sku": "s%d" % i, "qty": i * 10} for i in range(1, 5)])
dup = 0
try:
    inv.insert_one({"_id": 1})
except DuplicateKeyError as e:
    dup = e.code
streamed = len(list(inv.find({}, cursor_type=CursorType.EXHAUST, batch_size=1)))
inv.update_many({"qty": 10}, {"$set": {"qty": 11}})
inv.delete_many({"sku": "s4"})
unknown = 0
try:
    client["inventory"].command("frobnicate")
except OperationFailure as e:
    unknown = e.code
client.close()
print(json.dumps({"streamed": streamed, "dup": dup, "unknown": unknown}))
