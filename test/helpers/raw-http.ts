import { connect } from 'node:net';

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  raw: string;
}

/**
 * Sends bytes exactly as given (framing a client library would refuse to
 * produce) and reads the first answer until the server closes or 3 s pass.
 */
export function sendRaw(port: number, bytes: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let raw = '';
    const done = () => {
      socket.destroy();
      const [head, ...rest] = raw.split('\r\n\r\n');
      const [statusLine, ...lines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        if (i > 0) headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
      }
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1] ?? 0);
      let body = rest.join('\r\n\r\n');
      if (headers['content-length']) body = body.slice(0, Number(headers['content-length']));
      resolve({ status, headers, body, raw });
    };
    const timer = setTimeout(done, 3000);
    socket.on('data', (c: Buffer) => {
      raw += c.toString('latin1');
      const head = raw.indexOf('\r\n\r\n');
      const len = /content-length: (\d+)/i.exec(raw.slice(0, head))?.[1];
      if (head >= 0 && len !== undefined && raw.length - head - 4 >= Number(len)) {
        clearTimeout(timer);
        done();
      }
    });
    socket.on('end', () => {
      clearTimeout(timer);
      done();
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      if (raw) done();
      else reject(err);
    });
    socket.write(bytes, 'latin1');
  });
}
