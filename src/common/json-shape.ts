/**
 * The contract's bounds on the shape of any JSON input. Beyond them an input is refused before
 * anything walks it recursively (class-transformer recurses per level, and de-duplicates an
 * object's keys in time quadratic in their number), so each check here costs one pass.
 */
export const JSON_SHAPE_LIMITS = { depth: 32, keys: 1_000, elements: 10_000 } as const;

export type JsonShapeLimits = { [K in keyof typeof JSON_SHAPE_LIMITS]: number };

const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const SPACE = 0x20;
const TAB = 0x09;
const LINE_FEED = 0x0a;
const CARRIAGE_RETURN = 0x0d;

function deeper(limits: JsonShapeLimits): string {
  return `JSON input must not be nested deeper than ${limits.depth} levels`;
}
function tooManyKeys(limits: JsonShapeLimits): string {
  return `a JSON object must not have more than ${limits.keys} keys`;
}
function tooManyElements(limits: JsonShapeLimits): string {
  return `a JSON array must not have more than ${limits.elements} elements`;
}

/**
 * Why this UTF-8 JSON text is out of bounds, or undefined when it is within them, read in one
 * pass over the bytes before it is parsed. It does not check that the text is JSON (the parser
 * does that next); for any text that is, it counts exactly. In UTF-8 every byte of a multi-byte
 * character is 0x80 or above, so the structural characters cannot hide inside one.
 */
export function rawJsonShapeProblem(
  json: Uint8Array,
  limits: JsonShapeLimits = JSON_SHAPE_LIMITS,
): string | undefined {
  // For each open container (index = its depth): whether it is an object, and its members so far.
  const isObject = new Uint8Array(limits.depth + 1);
  const members = new Uint32Array(limits.depth + 1);
  let depth = 0;
  let inString = false;
  for (let index = 0; index < json.length; index += 1) {
    const byte = json[index];
    if (inString) {
      // The byte after a backslash is escaped (\" and \\ above all); \uXXXX's digits are inert.
      if (byte === BACKSLASH) index += 1;
      else if (byte === QUOTE) inString = false;
      continue;
    }
    switch (byte) {
      case SPACE:
      case TAB:
      case LINE_FEED:
      case CARRIAGE_RETURN:
        break;
      case OPEN_OBJECT:
      case OPEN_ARRAY:
        if (depth > 0 && members[depth] === 0) members[depth] = 1;
        depth += 1;
        if (depth > limits.depth) return deeper(limits);
        isObject[depth] = byte === OPEN_OBJECT ? 1 : 0;
        members[depth] = 0;
        break;
      case CLOSE_OBJECT:
      case CLOSE_ARRAY:
        if (depth > 0) depth -= 1;
        break;
      case COMMA:
        if (depth === 0) break;
        members[depth] += 1;
        if (isObject[depth] === 1 ? members[depth] > limits.keys : members[depth] > limits.elements)
          return isObject[depth] === 1 ? tooManyKeys(limits) : tooManyElements(limits);
        break;
      default:
        // The first token of a member: a key, or a scalar value in an array.
        if (byte === QUOTE) inString = true;
        if (depth > 0 && members[depth] === 0) members[depth] = 1;
    }
  }
  return undefined;
}

/** Binary attachments (Socket.IO delivers them as Buffers) are leaves, not containers. */
function isContainer(value: unknown): value is object {
  return (
    typeof value === 'object' &&
    value !== null &&
    !ArrayBuffer.isView(value) &&
    !(value instanceof ArrayBuffer)
  );
}

/**
 * The same bounds on a value already parsed (a Socket.IO payload, a body a host application
 * parsed): one visit per value, with an explicit stack, so no input can exhaust the call stack.
 */
export function jsonShapeProblem(
  value: unknown,
  limits: JsonShapeLimits = JSON_SHAPE_LIMITS,
): string | undefined {
  const values: unknown[] = [value];
  const depths: number[] = [0];
  while (values.length > 0) {
    const current = values.pop();
    const depth = depths.pop()! + 1;
    if (!isContainer(current)) continue;
    if (depth > limits.depth) return deeper(limits);
    if (Array.isArray(current)) {
      if (current.length > limits.elements) return tooManyElements(limits);
      for (const item of current as unknown[]) {
        values.push(item);
        depths.push(depth);
      }
    } else {
      const keys = Object.keys(current);
      if (keys.length > limits.keys) return tooManyKeys(limits);
      for (const key of keys) {
        values.push((current as Record<string, unknown>)[key]);
        depths.push(depth);
      }
    }
  }
  return undefined;
}
