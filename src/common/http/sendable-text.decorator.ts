import { ValidateBy, type ValidationOptions } from 'class-validator';

// C0 controls, DEL and C1 controls (never part of a code, a name or a
// remark), and a surrogate half without its other half (no UTF-8 for it).
// Without the u flag, so the regex sees UTF-16 units.
const UNSENDABLE =
  // oxlint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Well-formed UTF-16 (no lone surrogate) without control characters. */
export function isSendableText(value: unknown): boolean {
  return typeof value === 'string' && !UNSENDABLE.test(value);
}

/**
 * Refuses text that cannot be sent on (to WeChat, into a URL or a column)
 * as it is: a lone surrogate makes percent-encoding throw, control
 * characters have no place in user text. Checked by validation, so such
 * input is a 400 before any upstream call.
 */
export function IsSendableText(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isSendableText',
      validator: {
        validate: isSendableText,
        defaultMessage: () =>
          '$property must be well-formed text without control characters (no lone surrogates)',
      },
    },
    options,
  );
}
