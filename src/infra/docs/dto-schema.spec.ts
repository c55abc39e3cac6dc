import 'reflect-metadata';
import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  IsUrl,
  Length,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { dtoSchema } from './dto-schema.js';

class Line {
  @IsInt()
  @Min(1)
  @Max(99)
  quantity: number;
}

class Sample {
  @ApiProperty({ description: 'what it is called', example: 'Tea' })
  @IsString()
  @Length(2, 10)
  name: string;

  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @IsUrl({ protocols: ['https'], require_protocol: true })
  link?: string;

  @ApiProperty({ type: [Line] })
  @IsArray()
  @ArrayMaxSize(3)
  @ArrayUnique((l: Line) => l?.quantity, { message: 'each quantity once' })
  @ValidateNested({ each: true })
  @Type(() => Line)
  lines: Line[];
}

describe('dtoSchema', () => {
  const refs: Function[] = [];
  const schema = dtoSchema(Sample, (cls) => {
    refs.push(cls);
    return `#/components/schemas/${cls.name}`;
  });

  it('says what the validators enforce: types, limits, required and unknown properties', () => {
    expect(schema).toEqual({
      type: 'object',
      properties: {
        name: {
          type: 'string',
          minLength: 2,
          maxLength: 10,
          description: 'what it is called',
          example: 'Tea',
        },
        link: { type: 'string', minLength: 1, format: 'uri', pattern: '^(https)://' },
        lines: {
          type: 'array',
          maxItems: 3,
          items: { $ref: '#/components/schemas/Line' },
          description: 'each quantity once',
        },
      },
      required: ['name', 'lines'],
      additionalProperties: false,
    });
    expect(refs).toEqual([Line]);
  });

  it('types integers as integer with their bounds', () => {
    expect(dtoSchema(Line, () => '').properties?.quantity).toEqual({
      type: 'integer',
      minimum: 1,
      maximum: 99,
    });
  });
});
