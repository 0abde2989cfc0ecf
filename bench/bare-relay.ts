// The least any Node.js relay can do per request, as a floor for `/proxy/stream` in
// `npm run bench:proxy`: raw sockets, one keep-alive upstream connection per client
// connection, the request line rewritten from `?d=`, the upstream's headers read only for
// Content-Length, and each body chunk written to the client as it arrives. No HTTP
// library, no checks, no allowlist, no metrics: nothing the product could leave out.
// Whatever this costs, every Node relay pays (reading each byte from one socket and
// writing it to another), so the engine's distance to it is what its own code costs.
//
//   node --import tsx bench/bare-relay.ts UPSTREAM_PORT   prints the port it listens on

import { connect, createServer, type Socket } from 'node:net';

const upstreamPort = Number(process.argv[2]);
const HEADER_END = '\r\n\r\n';

function relay(client: Socket): void {
  const upstream = connect(upstreamPort, '127.0.0.1');
  client.setNoDelay(true);
  upstream.setNoDelay(true);
  let request = '';
  let head = Buffer.alloc(0);
  /** Body bytes still to come for the current response; -1 while reading its headers. */
  let remaining = -1;

  client.on('data', (data: Buffer) => {
    request += data.toString('latin1');
    for (let end = request.indexOf(HEADER_END); end >= 0; end = request.indexOf(HEADER_END)) {
      const line = request.slice(0, request.indexOf('\r\n'));
      request = request.slice(end + HEADER_END.length);
      const target = /[?&]d=([^&\s]+)/.exec(line)?.[1];
      if (target === undefined) return void client.destroy();
      const url = new URL(decodeURIComponent(target));
      upstream.write(`GET ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n\r\n`);
    }
  });

  upstream.on('data', (chunk: Buffer) => {
    let body = chunk;
    if (remaining < 0) {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf(HEADER_END);
      if (end < 0) return;
      const headers = head.subarray(0, end).toString('latin1');
      const status = headers.slice(9, 12);
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(headers)?.[1] ?? 0);
      const type = /\r\ncontent-type:\s*([^\r]+)/i.exec(headers)?.[1] ?? 'application/octet-stream';
      client.write(
        `HTTP/1.1 ${status} -\r\ncontent-type: ${type}\r\ncontent-length: ${length}${HEADER_END}`,
      );
      body = head.subarray(end + HEADER_END.length);
      head = Buffer.alloc(0);
      remaining = length;
    }
    if (body.length > 0) {
      remaining -= body.length;
      if (!client.write(body)) {
        upstream.pause();
        client.once('drain', () => upstream.resume());
      }
    }
    if (remaining === 0) remaining = -1;
    // The benchmark's client never pipelines, so one response never runs into the next.
    else if (remaining < 0) client.destroy(new Error('the upstream sent more than it said'));
  });

  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('close', close);
  upstream.on('close', close);
  client.on('error', close);
  upstream.on('error', close);
}

const server = createServer(relay);
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(typeof address === 'object' && address ? address.port : '');
});
