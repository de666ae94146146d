import {
  ArgumentMetadata,
  BadRequestException,
  Injectable,
  ValidationPipe,
  ValidationPipeOptions,
} from '@nestjs/common';
import { getMetadataStorage, ValidationTypes } from 'class-validator';
import { jsonShapeProblem } from './json-shape';

/** The options of Nest's ValidationPipe under it (exported for tests that compare with it). */
export const STRICT_VALIDATION_OPTIONS: ValidationPipeOptions = {
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  // Rejects a JSON array where an object is expected, instead of validating its items.
  forbidUnknownValues: true,
  validationError: { target: false, value: false },
};

/** Enough names for a client to see what is wrong, without echoing a flood back. */
const NAMED_AT_MOST = 10;

interface DtoShape {
  declared: Set<string>;
  /** Properties that may hold objects or nested arrays (validated nested, or as objects). */
  nested: Set<string>;
  /** Properties that hold free JSON (validated as objects, not as DTOs): kept as sent. */
  rawJson: Set<string>;
}

const shapes = new WeakMap<object, DtoShape>();

function dtoShape(metatype: abstract new (...args: never[]) => unknown): DtoShape {
  let shape = shapes.get(metatype);
  if (!shape) {
    const metadatas = getMetadataStorage().getTargetValidationMetadatas(metatype, '', true, false);
    shape = {
      declared: new Set(metadatas.map((metadata) => metadata.propertyName)),
      nested: new Set(
        metadatas
          .filter(
            (metadata) =>
              metadata.type === ValidationTypes.NESTED_VALIDATION || metadata.name === 'isObject',
          )
          .map((metadata) => metadata.propertyName),
      ),
      rawJson: new Set(
        metadatas
          .filter((metadata) => metadata.name === 'isObject')
          .map((metadata) => metadata.propertyName),
      ),
    };
    shapes.set(metatype, shape);
  }
  return shape;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isContainer(value: unknown): boolean {
  return typeof value === 'object' && value !== null;
}

function named(problems: string[]): string[] {
  return problems.length <= NAMED_AT_MOST
    ? problems
    : [...problems.slice(0, NAMED_AT_MOST), `and ${problems.length - NAMED_AT_MOST} more`];
}

/**
 * What is wrong with `value` as input for this DTO, found in one pass over it, before
 * class-transformer walks it (which costs time quadratic in an object's keys, and recursion per
 * level): its shape, keys the DTO does not declare, a query parameter given twice, and objects
 * or nested arrays where the DTO takes plain values.
 */
export function dtoInputProblems(
  value: unknown,
  metatype: abstract new (...args: never[]) => unknown,
  source: 'body' | 'query',
): string[] {
  if (!isPlainObject(value)) return [`the ${source} must be a JSON object`];
  const shapeProblem = jsonShapeProblem(value);
  if (shapeProblem !== undefined) return [shapeProblem];
  const { declared, nested } = dtoShape(metatype);
  const keys = Object.keys(value);
  const unknown = keys.filter((key) => !declared.has(key));
  if (unknown.length > 0) {
    return named(
      unknown.map((key) =>
        source === 'query' ? `unknown parameter ${key}` : `property ${key} should not exist`,
      ),
    );
  }
  const problems: string[] = [];
  for (const key of keys) {
    const field = value[key];
    if (source === 'query') {
      if (Array.isArray(field)) problems.push(`${key} must be given once`);
    } else if (!nested.has(key) && isContainer(field)) {
      if (!Array.isArray(field) || (field as unknown[]).some(isContainer)) {
        problems.push(`${key} must hold plain values, not objects or nested arrays`);
      }
    }
  }
  return problems;
}

type Dto = abstract new (...args: never[]) => unknown;

/**
 * A DTO's rules checked by hand, for a hot route: the instance class-transformer and
 * class-validator would give (same values, same defaults), the messages they would give
 * (same text, same order), or undefined for input it leaves to them. A unit test holds it to
 * exactly what the DTO's decorators say, which stay the definition (and the OpenAPI document).
 */
export type HandCheck = (value: Record<string, unknown>) => object | string[] | undefined;

const handChecks = new WeakMap<Dto, HandCheck>();

/** Validates `dto` with `check` wherever this pipe validates it; class-validator for the rest. */
export function checkedByHand(dto: Dto, check: HandCheck): void {
  handChecks.set(dto, check);
}

/** The hand check this pipe uses for `dto`, if any. */
export function handCheckOf(dto: Dto): HandCheck | undefined {
  return handChecks.get(dto);
}

/**
 * Nest's ValidationPipe, preceded by checks linear in the size of the input (see
 * `dtoInputProblems`), so that no body or query makes validation slow or overflow the stack.
 * A DTO registered with `checkedByHand` skips class-transformer and class-validator and their
 * walk through the decorators' metadata on every request.
 */
@Injectable()
export class StrictValidationPipe extends ValidationPipe {
  constructor() {
    super(STRICT_VALIDATION_OPTIONS);
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const { metatype, type } = metadata;
    // Validated already: the standalone service binds this pipe app-wide, and NotificationsModule's
    // controllers bind it again for host apps that bind none.
    if (typeof metatype === 'function' && value instanceof metatype) return value;
    if (
      (type === 'body' || type === 'query') &&
      metatype !== undefined &&
      this.toValidate(metadata) &&
      // A missing body becomes {} in ValidationPipe, which names the required fields.
      value !== undefined &&
      value !== null
    ) {
      const problems = dtoInputProblems(value, metatype, type);
      if (problems.length > 0) throw new BadRequestException(problems);
      const checked = handCheckOf(metatype)?.(value as Record<string, unknown>);
      if (Array.isArray(checked)) throw new BadRequestException(checked);
      if (checked !== undefined) return checked;
    }
    // Free JSON (a notification's `datos`) bypasses class-transformer, which would copy it
    // without keys named like Object.prototype's members (`constructor`, `toString`, …): it is
    // set back on the instance as sent, and the instance validated with it.
    const raw =
      type === 'body' && typeof metatype === 'function' && isPlainObject(value)
        ? [...dtoShape(metatype).rawJson].filter((key) => Object.hasOwn(value, key))
        : [];
    if (raw.length === 0) return super.transform(value, metadata);
    const rest = { ...(value as Record<string, unknown>) };
    for (const key of raw) delete rest[key];
    const instance = (await super.transform(rest, metadata)) as Record<string, unknown>;
    for (const key of raw) instance[key] = (value as Record<string, unknown>)[key];
    const errors = await this.validate(instance, this.validatorOptions);
    if (errors.length > 0) throw await this.exceptionFactory(errors);
    return instance;
  }
}
