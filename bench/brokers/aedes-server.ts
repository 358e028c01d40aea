/**
 * aedes on a plain node:net server, as its README shows, for the benchmark. Prints `PORT <n>`.
 * Run with `node --import tsx bench/brokers/aedes-server.ts [host]`.
 */
import net from 'node:net';
import { Aedes } from 'aedes';

const host = process.argv[2] ?? '127.0.0.1';
const aedes = await Aedes.createBroker();
const server = net.createServer(aedes.handle);
server.listen(0, host, () => {
  const { port } = server.address() as net.AddressInfo;
  process.stdout.write(`PORT ${port}\n`);
});
const stop = () => {
  server.close();
  aedes.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
