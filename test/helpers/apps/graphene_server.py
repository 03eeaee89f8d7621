"""A graphene 2 GraphQL app behind Python's http.server, for the GraphQL integration test.

PORT from argv[1]. POST /graphql with a JSON body {query, operationName, variables}, or GET
/graphql?query=...&operationName=...; answers {"data": ...} and, when execution failed,
{"errors": [{"message": ...}]} (GraphQL over HTTP: 200 when data is present, else 400).
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import graphene

BOOKS = [{"id": "1", "title": "Dune"}]


class Book(graphene.ObjectType):
    id = graphene.ID(required=True)
    title = graphene.String(required=True)


class Query(graphene.ObjectType):
    books = graphene.List(graphene.NonNull(Book), required=True)
    boom = graphene.String()

    def resolve_books(self, info):
        return [Book(**b) for b in BOOKS]

    def resolve_boom(self, info):
        raise Exception("boom failed")


class AddBook(graphene.Mutation):
    class Arguments:
        title = graphene.String(required=True)

    Output = Book

    def mutate(self, info, title):
        b = {"id": str(len(BOOKS) + 1), "title": title}
        BOOKS.append(b)
        return Book(**b)


class Mutation(graphene.ObjectType):
    add_book = AddBook.Field(name="addBook")


SCHEMA = graphene.Schema(query=Query, mutation=Mutation, auto_camelcase=False)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _run(self, query, operation_name, variables):
        result = SCHEMA.execute(query, operation_name=operation_name, variables=variables)
        out = {}
        if result.data is not None:
            out["data"] = result.data
        if result.errors:
            out["errors"] = [{"message": str(e)} for e in result.errors]
        body = json.dumps(out).encode()
        self.send_response(200 if result.data is not None else 400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urlsplit(self.path)
        q = parse_qs(url.query)
        self._run(q.get("query", [""])[0], q.get("operationName", [None])[0], None)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        req = json.loads(self.rfile.read(n))
        self._run(req.get("query", ""), req.get("operationName"), req.get("variables"))


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
