// The gRPC benchmark server: @grpc/grpc-js, one unary method echoing raw bytes (no protobuf).
//   node grpc-server.mjs <port>
import * as grpc from '@grpc/grpc-js';

const id = (b) => b;
const server = new grpc.Server();
server.addService(
  { echo: { path: '/bench.Echo/Unary', requestStream: false, responseStream: false, requestSerialize: id, requestDeserialize: id, responseSerialize: id, responseDeserialize: id } },
  { echo: (call, cb) => cb(null, call.request) },
);
server.bindAsync(`127.0.0.1:${process.argv[2]}`, grpc.ServerCredentials.createInsecure(), (err) => {
  if (err) {
    console.error(err);
    process.exit(1);
  }
  console.log('listening');
});
process.on('SIGTERM', () => server.forceShutdown());
