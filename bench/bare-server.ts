/**
 * The ceiling for HTTP: a bare node:http server answering every request with a
 * small 303, as a job creation does, in its own process like the UWS under test.
 */
import http from 'node:http';
import { serveCommands } from './lib/child.js';

const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(303, { location: 'http://127.0.0.1/noop/async/x', 'content-type': 'text/plain' });
    res.end('See http://127.0.0.1/noop/async/x\n');
  });
});
server.keepAliveTimeout = 60_000;
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const address = server.address();
if (!address || typeof address === 'string') throw new Error('no address');

serveCommands(
  { url: `http://127.0.0.1:${address.port}`, pid: process.pid },
  {
    memory() {
      global.gc?.();
      const m = process.memoryUsage();
      return { rss: m.rss, heapUsed: m.heapUsed };
    },
  },
  () => new Promise<void>((resolve) => server.close(() => resolve())),
);
