import type { ValidationError } from '@nestjs/common';
import type { FieldError } from '../errors/app-error.js';

/**
 * The order in which a person checks a field: is it there, is it the right
 * type, is its value in range or format, do the rules across values hold.
 * class-validator runs a property's constraints in reverse decorator order
 * and reports all that fail, so a missing price "must not be greater than
 * 100000000"; each field's message is picked by this order instead.
 */
const TYPE_CHECKS = new Set([
  'isNotNull',
  'isString',
  'isInt',
  'isNumber',
  'isBoolean',
  'isArray',
  'isObject',
  'isDate',
  'nestedValidation',
]);

const VALUE_CHECKS = new Set([
  'isNotEmpty',
  'isDefined',
  'isLength',
  'minLength',
  'maxLength',
  'min',
  'max',
  'isPositive',
  'isNegative',
  'isUrl',
  'isEmail',
  'isISO8601',
  'isDateString',
  'isIn',
  'isEnum',
  'matches',
  'arrayMinSize',
  'arrayMaxSize',
  'arrayNotEmpty',
]);

/** Rules that look at several values (ArrayUnique, custom cross-field rules): checked last. */
const enum Tier {
  Unknown = 0,
  Type = 1,
  Value = 2,
  Relation = 3,
}

function tierOf(constraint: string): Tier {
  if (constraint === 'whitelistValidation') return Tier.Unknown;
  if (TYPE_CHECKS.has(constraint)) return Tier.Type;
  if (VALUE_CHECKS.has(constraint)) return Tier.Value;
  return Tier.Relation;
}

function fieldPath(parent: string, property: string): string {
  // Array elements read as `items[0].productId`, the way clients index them.
  if (!parent) return property;
  return /^\d+$/.test(property) ? `${parent}[${property}]` : `${parent}.${property}`;
}

/** The name a message uses: the property, or `items[0]` for an array element. */
function nameIn(field: string, property: string): string {
  return /^\d+$/.test(property) ? field : property;
}

/** The first thing wrong with one field, or undefined when only its children are wrong. */
function firstProblem(
  e: ValidationError,
  name: string,
  childrenFailed: boolean,
): { message: string; tier: Tier } | undefined {
  const constraints = Object.entries(e.constraints ?? {});
  if (constraints.length === 0) return undefined;
  // Optional properties skip validation when absent, so an error on an absent value means required.
  const unknown = constraints.find(([kind]) => tierOf(kind) === Tier.Unknown);
  if (unknown) return { message: unknown[1], tier: Tier.Unknown };
  if (e.value === undefined) return { message: `${name} is required`, tier: Tier.Unknown };
  let best: [string, string] | undefined;
  for (const entry of constraints) {
    if (!best || tierOf(entry[0]) < tierOf(best[0])) best = entry;
  }
  const [kind, message] = best as [string, string];
  const tier = tierOf(kind);
  if (kind === 'nestedValidation') return { message: `${name} must be an object`, tier };
  // A rule across values says nothing useful while the values themselves are wrong.
  if (tier === Tier.Relation && childrenFailed) return undefined;
  return { message, tier };
}

/**
 * class-validator's errors as `[{ field, message }]`: one message per field,
 * the first thing wrong in the order above. A field that is missing or of
 * the wrong type hides what its children (elements, nested properties) say.
 */
export function fieldErrors(errors: readonly ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((e) => {
    const field = fieldPath(parent, e.property);
    const children = fieldErrors(e.children ?? [], field);
    const own = firstProblem(e, nameIn(field, e.property), children.length > 0);
    if (!own) return children;
    if (own.tier <= Tier.Type) return [{ field, message: own.message }];
    return [{ field, message: own.message }, ...children];
  });
}
