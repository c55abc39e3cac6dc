/**
 * Imported first by main.ts, before anything of Nest's loads.
 *
 * `@nestjs/common` builds two `Intl.DateTimeFormat`s as it loads, for its
 * console logger; this app logs through pino (common/logging) and never
 * formats with them. Building one makes ICU read its locale and time-zone
 * data out of the node binary: about 5 MB of every replica's RSS, against a
 * budget of 200 MB (docs/benchmarks.md, "Code that ran once"). Until
 * `restoreDateTimeFormat()`, a formatter built is a stand-in that builds the
 * real one the first time it is used, so nothing changes for code that does
 * format (Nest's console logger before pino takes over, if it ever runs).
 */
const Real = Intl.DateTimeFormat;

function Deferred(
  locales?: string | string[],
  options?: Intl.DateTimeFormatOptions,
): Intl.DateTimeFormat {
  let real: Intl.DateTimeFormat | undefined;
  const built = () => (real ??= new Real(locales, options));
  // The target carries the prototype, so `instanceof Intl.DateTimeFormat` holds.
  return new Proxy(Object.create(Real.prototype) as Intl.DateTimeFormat, {
    get(_target, property) {
      const target = built();
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
}
Deferred.prototype = Real.prototype;
Deferred.supportedLocalesOf = Real.supportedLocalesOf.bind(Real);

Intl.DateTimeFormat = Deferred as unknown as typeof Intl.DateTimeFormat;

/** Called once the modules have loaded: from here on a formatter is built at once. */
export function restoreDateTimeFormat(): void {
  Intl.DateTimeFormat = Real;
}
