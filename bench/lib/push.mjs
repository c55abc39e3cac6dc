// The push scenario's requests: distinct safe-mode JSON messages, signed and
// encrypted as WeChat does (the same scheme as test/helpers/wechat-pusher.ts),
// one per line of a file the Lua script rotates over.
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PUSH_TOKEN = 'benchPushToken';
export const PUSH_AES_KEY = randomBytes(32).toString('base64').slice(0, 43);

const sha1Sorted = (parts) => createHash('sha1').update([...parts].sort().join('')).digest('hex');

function encrypt(text, appId) {
  const key = Buffer.from(`${PUSH_AES_KEY}=`, 'base64');
  const message = Buffer.from(text);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(message.length);
  const plain = Buffer.concat([randomBytes(16), length, message, Buffer.from(appId)]);
  const pad = 32 - (plain.length % 32);
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(Buffer.concat([plain, Buffer.alloc(pad, pad)])), cipher.final()]).toString('base64');
}

/**
 * `count` distinct subscribe-popup events (an event a consumer acts on, so the
 * outbox row is real work), written as "query<TAB>body" lines; returns the file.
 * Timestamps are now: use the file within WeChat's 5 minutes.
 */
export function pushRequests({ appId, count, tag }) {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const lines = [];
  for (let i = 0; i < count; i++) {
    const fields = {
      ToUserName: 'gh_bench',
      FromUserName: `bench-push-${tag}-${i % 1000}`,
      CreateTime: Number(timestamp) + i,
      MsgType: 'event',
      Event: 'subscribe_msg_popup_event',
      List: { TemplateId: 'benchTemplate', SubscribeStatusString: 'accept', PopupScene: '0' },
    };
    const Encrypt = encrypt(JSON.stringify(fields), appId);
    const nonce = String(randomBytes(4).readUInt32BE());
    const query = new URLSearchParams({
      signature: sha1Sorted([PUSH_TOKEN, timestamp, nonce]),
      timestamp,
      nonce,
      openid: fields.FromUserName,
      encrypt_type: 'aes',
      msg_signature: sha1Sorted([PUSH_TOKEN, timestamp, nonce, Encrypt]),
    });
    lines.push(`${query}\t${JSON.stringify({ ToUserName: 'gh_bench', Encrypt })}`);
  }
  const file = join(tmpdir(), `bench-push-${process.pid}-${tag}.txt`);
  writeFileSync(file, lines.join('\n'));
  return file;
}

/** Lua: POST each line of `file` once, in order (then around again: repeats, answered too). */
export function pushScript(path, file) {
  return `local lines = {}
for line in io.lines("${file}") do lines[#lines + 1] = line end
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i % #lines + 1
  local line = lines[i]
  local tab = line:find("\\t", 1, true)
  return wrk.format(nil, "${path}?" .. line:sub(1, tab - 1), nil, line:sub(tab + 1))
end
`;
}
