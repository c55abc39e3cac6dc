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
    await createValidationPipe().transform(value, body);
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return (err as AppError).data;
  }
  throw new Error('accepted');
}

describe('the validation pipe with a well-formed shortcut', () => {
  it('takes the well-formed shape as an instance of the DTO without validating it', async () => {
    const before = checked;
    const out = await createValidationPipe().transform({ quantity: 3 }, body);
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
