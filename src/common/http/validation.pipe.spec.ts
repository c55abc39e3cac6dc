import { ValidationPipe, type ArgumentMetadata } from '@nestjs/common';
import { IsInt, Max, Min } from 'class-validator';
import { AppError } from '../errors/app-error.js';
import { acceptWellFormed, createValidationPipe } from './validation.pipe.js';

class Buy {
  @IsInt()
  @Min(1)
  @Max(10)
  quantity: number;
}

let checked = 0;
acceptWellFormed(Buy, (value): value is Buy => {
  checked++;
  const v = value as Record<string, unknown>;
  return (
    Object.keys(v).length === 1 &&
    Number.isInteger(v.quantity) &&
    (v.quantity as number) <= 10 &&
    (v.quantity as number) >= 1
  );
});

const body = { type: 'body' as const, metatype: Buy };

async function refusal(value: unknown): Promise<unknown> {
  try {
    await (createValidationPipe().transform(value, body) as Promise<unknown>);
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return (err as AppError).data;
  }
  throw new Error('accepted');
}

describe('the validation pipe with a well-formed shortcut', () => {
  it('takes the well-formed shape as an instance of the DTO without validating it', async () => {
    const before = checked;
    const out = createValidationPipe().transform({ quantity: 3 }, body);
    expect(out).toBeInstanceOf(Buy);
    expect(out).toEqual({ quantity: 3 });
    expect(checked).toBe(before + 1);
  });

  it('refuses everything else exactly as the validators do', async () => {
    expect(await refusal({ quantity: 0 })).toEqual({
      errors: [{ field: 'quantity', message: expect.any(String) }],
    });
    expect(await refusal({ quantity: 2, extra: 1 })).toEqual({
      errors: [{ field: 'extra', message: expect.any(String) }],
    });
    expect(await refusal({ quantity: null })).toEqual({
      errors: [{ field: 'quantity', message: expect.any(String) }],
    });
  });
});

describe('the validation pipe without a validator', () => {
  // What Nest's own pipe, with the app's options, resolves to.
  const nest = new ValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true });
  const cases: [string, unknown, ArgumentMetadata][] = [
    ['a path id', '7', { type: 'param', data: 'id', metatype: String }],
    ['a numeric path id', '7', { type: 'param', data: 'id', metatype: Number }],
    ['a boolean query value', 'true', { type: 'query', data: 'all', metatype: Boolean }],
    ['a missing query value', undefined, { type: 'query', data: 'n', metatype: Number }],
    // Nest tells a pipe a header is 'custom' (ParamsTokenFactory).
    ['a header', 'key-1', { type: 'custom', data: 'idempotency-key', metatype: String }],
    ['a custom decorator', { userId: 1 }, { type: 'custom', data: undefined, metatype: Object }],
    ['an untyped body', { a: 1 }, { type: 'body', data: undefined, metatype: undefined }],
  ];

  it.each(cases)(
    'answers %s at once, with what ValidationPipe resolves to',
    async (_, value, metadata) => {
      const out = createValidationPipe().transform(value, metadata);
      expect(out).not.toBeInstanceOf(Promise);
      expect(out).toStrictEqual(await nest.transform(value, metadata));
    },
  );

  it('validates a DTO that is not well-formed, with a promise', async () => {
    const out = createValidationPipe().transform({ quantity: '3' }, body);
    expect(out).toBeInstanceOf(Promise);
    await expect(out).rejects.toBeInstanceOf(AppError);
  });
});
