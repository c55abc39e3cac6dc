/**
 * 1200 → "¥12.00": the backend counts money in cents.
 * @param {number} cents
 */
export const yuan = (cents) => `¥${(cents / 100).toFixed(2)}`;

/**
 * What to show for a failure of the SDK: the envelope's message, with its requestId for support.
 * @param {any} err whatever was thrown
 */
export function describeError(err) {
  if (err && err.name === 'ApiError')
    return `${err.message} (code ${err.code}, request ${err.requestId})`;
  if (err && err.name === 'NetworkError') return 'No connection: try again.';
  return (err && err.message) || String(err);
}
