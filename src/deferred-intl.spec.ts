const Original = Intl.DateTimeFormat;
// Installs the stand-in, as main.ts's first import does.
const { restoreDateTimeFormat } = await import('./deferred-intl.js');

const NEST_OPTIONS: Intl.DateTimeFormatOptions = {
  year: 'numeric',
  hour: 'numeric',
  minute: 'numeric',
  second: 'numeric',
  day: '2-digit',
  month: '2-digit',
};
const AT = Date.UTC(2026, 11, 7, 21, 5, 9);

describe('deferred Intl.DateTimeFormat', () => {
  afterAll(() => restoreDateTimeFormat());

  it('builds nothing until the formatter is used', () => {
    // A real formatter refuses an unknown time zone when it is built.
    expect(() => new Original('en-US', { timeZone: 'Nowhere/Atlantis' })).toThrow(RangeError);
    const deferred = new Intl.DateTimeFormat('en-US', { timeZone: 'Nowhere/Atlantis' });
    expect(() => deferred.format(AT)).toThrow(RangeError);
  });

  it('formats, resolves and answers instanceof as the real one does', () => {
    const deferred = new Intl.DateTimeFormat('en-US', {
      ...NEST_OPTIONS,
      timeZone: 'Asia/Shanghai',
    });
    const real = new Original('en-US', { ...NEST_OPTIONS, timeZone: 'Asia/Shanghai' });
    expect(deferred).toBeInstanceOf(Original);
    expect(deferred.format(AT)).toBe(real.format(AT));
    expect(deferred.format(AT)).toBe('12/08/2026, 5:05:09 AM');
    expect(deferred.formatToParts(AT)).toEqual(real.formatToParts(AT));
    expect(deferred.resolvedOptions()).toEqual(real.resolvedOptions());
    expect(Intl.DateTimeFormat.supportedLocalesOf(['en-US', 'zh-CN'])).toEqual(
      Original.supportedLocalesOf(['en-US', 'zh-CN']),
    );
  });

  it('is undone by restoreDateTimeFormat', () => {
    expect(Intl.DateTimeFormat).not.toBe(Original);
    restoreDateTimeFormat();
    expect(Intl.DateTimeFormat).toBe(Original);
    expect(() => new Intl.DateTimeFormat('en-US', { timeZone: 'Nowhere/Atlantis' })).toThrow(
      RangeError,
    );
  });
});
