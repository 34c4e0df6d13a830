// The lab's package mirror server: serves one directory read-only over HTTP on the lab bridges'
// addresses. A separate process (plain JavaScript, run by node directly) because it outlives the
// `lab up` command that starts it; `lab down` kills it.
//
// Usage: node mirror-server.mjs DIR PORT ADDRESS...
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import path from 'node:path';
import process from 'node:process';
import { URL } from 'node:url';

const [root, portText, ...addresses] = process.argv.slice(2);
const port = Number(portText);
if (!root || !Number.isInteger(port) || addresses.length === 0) {
  process.stderr.write('usage: mirror-server.mjs DIR PORT ADDRESS...\n');
  process.exit(2);
}
const base = path.resolve(root);

async function handle(request, response) {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  let relative;
  try {
    relative = decodeURIComponent(new URL(request.url ?? '/', 'http://mirror').pathname);
  } catch {
    response.writeHead(400).end();
    return;
  }
  const file = path.resolve(base, `.${path.posix.normalize(`/${relative}`)}`);
  const info = file.startsWith(`${base}${path.sep}`) ? await stat(file).catch(() => undefined) : undefined;
  if (!info?.isFile()) {
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    return;
  }
  response.writeHead(200, { 'content-length': info.size, 'content-type': 'application/octet-stream', 'last-modified': info.mtime.toUTCString() });
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  const stream = createReadStream(file);
  stream.on('error', () => response.destroy());
  stream.pipe(response);
}

for (const address of addresses) {
  const server = createServer((request, response) => {
    handle(request, response).catch(() => response.destroy());
  });
  server.on('error', (error) => {
    process.stderr.write(`mirror server: cannot listen on ${address}:${port}: ${error.message}\n`);
    process.exit(1);
  });
  server.listen(port, address);
}
