/** A body that is not a WeChat push message (not JSON or XML, fields missing or out of range). */
export class PushMalformed extends Error {
  override name = 'PushMalformed';
}
