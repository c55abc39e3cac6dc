import 'reflect-metadata';
import { plainToInstance, Type } from 'class-transformer';
import {
  ArrayUnique,
  IsArray,
  IsInt,
  IsString,
  Max,
  registerDecorator,
  ValidateNested,
  validate,
} from 'class-validator';
import { fieldErrors } from './validation-messages.js';

/** A rule across two fields, as a domain would write it (unknown to the picker: checked last). */
function NotBefore(other: string) {
  return (target: object, property: string) =>
    registerDecorator({
      name: 'notBefore',
      target: target.constructor,
      propertyName: property,
      constraints: [other],
      options: { message: `${property} must not be before ${other}` },
      validator: {
        validate: (value: unknown, args) => {
          const object = (args?.object ?? {}) as Record<string, number>;
          return (value as number) >= (object[other] ?? 0);
        },
      },
    });
}

class Line {
  @IsInt()
  @Max(9)
  n: number;
}

class Sample {
  @IsInt()
  start: number;

  @NotBefore('start')
  @Max(100)
  @IsInt()
  end: number;

  @IsArray()
  @ArrayUnique((l: Line) => l?.n)
  @ValidateNested({ each: true })
  @Type(() => Line)
  lines: Line[];

  @IsString()
  label: string;
}

async function check(body: Record<string, unknown>) {
  const base = { start: 1, end: 2, lines: [{ n: 1 }], label: 'x' };
  return fieldErrors(await validate(plainToInstance(Sample, { ...base, ...body })));
}

describe('fieldErrors', () => {
  it('says a missing field is required, whatever else its constraints say', async () => {
    expect(await check({ end: undefined })).toEqual([{ field: 'end', message: 'end is required' }]);
  });

  it('names the type before the range, and the range before a rule across fields', async () => {
    expect(await check({ end: 'x' })).toEqual([
      { field: 'end', message: 'end must be an integer number' },
    ]);
    expect(await check({ start: 500, end: 200 })).toEqual([
      { field: 'end', message: 'end must not be greater than 100' },
    ]);
    expect(await check({ start: 5, end: 3 })).toEqual([
      { field: 'end', message: 'end must not be before start' },
    ]);
  });

  it('hides what the elements of a mistyped array say, and the array rule while elements are wrong', async () => {
    expect(await check({ lines: { n: 'x' } })).toEqual([
      { field: 'lines', message: 'lines must be an array' },
    ]);
    expect(await check({ lines: [{ n: 10 }, { n: 10 }] })).toEqual([
      { field: 'lines[0].n', message: 'n must not be greater than 9' },
      { field: 'lines[1].n', message: 'n must not be greater than 9' },
    ]);
    expect(await check({ lines: [{ n: 1 }, { n: 1 }] })).toEqual([
      { field: 'lines', message: "All lines's elements must be unique" },
    ]);
  });

  it('reports one message per field, each field once', async () => {
    const errors = await check({ start: 'a', end: undefined, label: 3 });
    expect(errors.map((e) => e.field)).toEqual(['start', 'end', 'label']);
  });
});
