import type { ValidationError } from 'class-validator';

/**
 * class-validator's @IsOptional() lets `null` through as well as `undefined`,
 * so `{"nickname":null}` reached the database as a NULL into a NOT NULL column
 * (a 500). No field of this API gives `null` a meaning ("leave it out" is how
 * a client keeps a value), so every null in a body is a validation error,
 * nested ones included, whatever the DTO's decorators say.
 */
export function nullFieldErrors(value: object): ValidationError[] {
  const errors: ValidationError[] = [];
  for (const [property, v] of Object.entries(value)) {
    if (v === null) {
      errors.push({
        property,
        value: v,
        children: [],
        constraints: { isNotNull: `${property} must not be null` },
      });
    } else if (typeof v === 'object') {
      const children = nullFieldErrors(v as object);
      if (children.length > 0) errors.push({ property, value: v, children });
    }
  }
  return errors;
}

/** class-validator's errors plus a null error for each property it did not already report. */
export function withNullFieldErrors(value: object, errors: ValidationError[]): ValidationError[] {
  const reported = new Set(errors.map((e) => e.property));
  const missing = nullFieldErrors(value).filter((e) => !reported.has(e.property));
  return missing.length === 0 ? errors : [...errors, ...missing];
}
