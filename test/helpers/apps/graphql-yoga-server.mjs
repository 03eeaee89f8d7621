// A graphql-yoga server for the GraphQL integration test: PORT from argv[2], endpoint /graphql;
// with argv[3] `h2c`, served over cleartext HTTP/2 (node:http2, prior knowledge) instead of HTTP/1.1.
// Schema: books (query), book(id) (query), addBook(title) (mutation), boom (a resolver that fails).
import { createServer } from 'node:http';
import { createServer as createH2cServer } from 'node:http2';
import { createSchema, createYoga } from 'graphql-yoga';

const books = [{ id: '1', title: 'Dune' }];
const yoga = createYoga({
  graphqlEndpoint: '/graphql',
  logging: false,
  maskedErrors: false,
  landingPage: false,
  schema: createSchema({
    typeDefs: 'type Book { id: ID!, title: String! }\ntype Query { books: [Book!]!, book(id: ID!): Book, boom: String }\ntype Mutation { addBook(title: String!): Book! }',
    resolvers: {
      Query: {
        books: () => books,
        book: (_, { id }) => books.find((b) => b.id === id) ?? null,
        boom: () => {
          throw new Error('boom failed');
        },
      },
      Mutation: {
        addBook: (_, { title }) => {
          const b = { id: String(books.length + 1), title };
          books.push(b);
          return b;
        },
      },
    },
  }),
});
const server = process.argv[3] === 'h2c' ? createH2cServer(yoga) : createServer(yoga);
server.listen(Number(process.argv[2]), '127.0.0.1', () => console.log('listening'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
