import { DECORATORS, type SchemaObject } from '@nestjs/swagger';
import { getMetadataStorage } from 'class-validator';

/**
 * The OpenAPI schema of a request DTO, read from its class-validator
 * constraints: what the validation pipe enforces is what the document says,
 * with no second copy of a limit. `@ApiProperty` on a DTO adds only prose
 * (description, example) and the class of nested values.
 */

type ValidationMetadata = ReturnType<
  ReturnType<typeof getMetadataStorage>['getTargetValidationMetadatas']
>[number];

type Constraint = (schema: SchemaObject, args: unknown[]) => void;

const CONSTRAINTS: Record<string, Constraint> = {
  isString: (s) => (s.type = 'string'),
  isInt: (s) => (s.type = 'integer'),
  isNumber: (s) => (s.type = 'number'),
  isBoolean: (s) => (s.type = 'boolean'),
  isArray: (s) => (s.type = 'array'),
  min: (s, [n]) => (s.minimum = n as number),
  max: (s, [n]) => (s.maximum = n as number),
  isLength: (s, [min, max]) => {
    s.minLength = min as number;
    if (max !== undefined) s.maxLength = max as number;
  },
  minLength: (s, [n]) => (s.minLength = n as number),
  maxLength: (s, [n]) => (s.maxLength = n as number),
  isNotEmpty: (s) => (s.minLength ??= 1),
  arrayMinSize: (s, [n]) => (s.minItems = n as number),
  arrayMaxSize: (s, [n]) => (s.maxItems = n as number),
  matches: (s, [pattern]) => (s.pattern = (pattern as RegExp).source ?? String(pattern)),
  isIn: (s, [values]) => (s.enum = values as unknown[]),
  isUrl: (s, [options]) => {
    s.format = 'uri';
    const protocols = (options as { protocols?: string[] } | undefined)?.protocols;
    if (protocols) s.pattern = `^(${protocols.join('|')})://`;
  },
};

/** Properties' own prose from @ApiProperty; everything else comes from the validators. */
interface PropertyProse {
  description?: string;
  example?: unknown;
  default?: unknown;
  type?: unknown;
}

function proseOf(cls: Function, property: string): PropertyProse {
  return (Reflect.getMetadata(DECORATORS.API_MODEL_PROPERTIES, cls.prototype as object, property) ??
    {}) as PropertyProse;
}

/** A class given as the nested type of a property (`@ApiProperty({ type: [OrderLineDto] })`). */
function nestedClass(prose: PropertyProse): Function | undefined {
  const type = Array.isArray(prose.type) ? prose.type[0] : prose.type;
  return typeof type === 'function' && ![String, Number, Boolean, Array].includes(type as never)
    ? (type as Function)
    : undefined;
}

export interface DtoProperty {
  name: string;
  required: boolean;
  schema: SchemaObject;
}

/**
 * The properties of `cls` as the validation pipe sees them. `ref` names a
 * nested DTO class in the document (it is described too, through `onNested`).
 */
export function dtoProperties(cls: Function, ref: (nested: Function) => string): DtoProperty[] {
  const byProperty = new Map<string, ValidationMetadata[]>();
  for (const m of getMetadataStorage().getTargetValidationMetadatas(cls, '', true, false)) {
    byProperty.set(m.propertyName, [...(byProperty.get(m.propertyName) ?? []), m]);
  }
  return [...byProperty].map(([name, metas]) => {
    const schema: SchemaObject = {};
    let required = true;
    const messages: string[] = [];
    for (const m of metas) {
      if (m.type === 'conditionalValidation' && m.name === 'isOptional') required = false;
      const apply = m.name ? CONSTRAINTS[m.name] : undefined;
      if (apply) apply(schema, m.constraints ?? []);
      // Rules the schema cannot say (ArrayUnique by a key) are stated in words.
      else if (m.type === 'customValidation' && typeof m.message === 'string') {
        messages.push(m.message);
      }
    }
    const prose = proseOf(cls, name);
    const nested = nestedClass(prose);
    if (nested) {
      const item = { $ref: ref(nested) };
      if (schema.type === 'array') schema.items = item;
      else Object.assign(schema, item);
    }
    const description = [prose.description, ...messages].filter(Boolean).join('; ');
    if (description) schema.description = description;
    if (prose.example !== undefined) schema.example = prose.example;
    if (prose.default !== undefined) schema.default = prose.default;
    return { name, required, schema };
  });
}

/** The body schema of `cls`: unknown properties are refused (forbidNonWhitelisted). */
export function dtoSchema(cls: Function, ref: (nested: Function) => string): SchemaObject {
  const properties = dtoProperties(cls, ref);
  const required = properties.filter((p) => p.required).map((p) => p.name);
  return {
    type: 'object',
    properties: Object.fromEntries(properties.map((p) => [p.name, p.schema])),
    ...(required.length > 0 ? { required } : {}),
    additionalProperties: false,
  };
}
