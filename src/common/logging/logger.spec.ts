import { Writable } from 'node:stream';
import { createLogger } from './logger.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { stream, text: () => lines.join('') };
}

describe('createLogger redaction', () => {
  it.each([
    ['authorization header', { req: { headers: { authorization: 'Bearer eyJ.secret' } } }],
    ['access token', { result: { accessToken: 'eyJ.secret' } }],
    ['refresh token', { refreshToken: 'eyJ.secret' }],
    ['session_key', { wechat: { session_key: 'eyJ.secret' } }],
    ['WeChat secret', { secret: 'eyJ.secret' }],
    ['encryptedData', { body: { encryptedData: 'eyJ.secret' } }],
  ])('blanks the %s', (_label, payload) => {
    const out = capture();
    createLogger('info', out.stream).info(payload, 'event');
    expect(out.text()).toContain('[redacted]');
    expect(out.text()).not.toContain('eyJ.secret');
  });

  it('keeps ordinary fields', () => {
    const out = capture();
    createLogger('info', out.stream).info({ userId: 7 }, 'login');
    expect(JSON.parse(out.text())).toMatchObject({ level: 30, userId: 7, message: 'login' });
  });
});
