// One way to pick a port for a process the caller starts later (a replica,
// redis-server, mariadbd, nginx). A port the kernel hands out for listen(0)
// comes from the ephemeral range, which outgoing connections also draw their
// local ports from: with two test files running at once, a connection of the
// other file could take the port before the child process binds it
// (EADDRINUSE). Ports below that range are never given to outgoing
// connections, so a random one that is free now stays free unless another
// caller picks the very same one.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const FLOOR = 20_000;

function ephemeralStart() {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/);
    const port = Number(low);
    return Number.isInteger(port) && port > FLOOR + 1000 ? port : 32_768;
  } catch {
    return 32_768;
  }
}

const CEILING = ephemeralStart();

function bindable(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A TCP port on 127.0.0.1 that is free now, outside the ephemeral range. */
export async function freePort() {
  for (let tries = 0; tries < 200; tries++) {
    const port = FLOOR + Math.floor(Math.random() * (CEILING - FLOOR));
    if (await bindable(port)) return port;
  }
  throw new Error(`no free port in ${FLOOR}-${CEILING - 1}`);
}
