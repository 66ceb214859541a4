/**
 * One Kafka message's value → a cleaned row, or the reason it goes to the dead-letter topic.
 * Pure and total: whatever bytes arrive (invalid UTF-8, hostile nesting, `__proto__` keys), the
 * answer is a row or a dead letter, never an exception.
 */
import { cleanCountry, cleanEmail, cleanFirstName, cleanGender, cleanId, cleanIp, cleanLastName, compileDateFormats } from "./rules.ts";
import type { CleanOutcome, CleanRules } from "./types.ts";

export interface MessageMeta {
  /** Kafka record timestamp, ms since the epoch. */
  readonly timestamp: number;
  readonly partition: number;
  readonly offset: string;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Own properties only: a `__proto__` or `constructor` key in the input is data, never the prototype's. */
const field = (record: Record<string, unknown>, name: string): unknown => (Object.hasOwn(record, name) ? record[name] : undefined);

export function cleanMessage(value: Uint8Array | null, meta: MessageMeta, rules: CleanRules): CleanOutcome {
  if (value === null) return dead("invalid_json", "the message has no value (a tombstone)");
  let text: string;
  try {
    text = strictUtf8.decode(value);
  } catch {
    return dead("invalid_json", "the value is not valid UTF-8");
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof RangeError ? "the value is nested too deeply to parse" : `the value is not valid JSON: ${(error as Error).message}`;
    return dead("invalid_json", reason);
  }
  return cleanParsed(parsed, meta, rules);
}

/** The rules applied to an already parsed value (also used to check that cleaning is idempotent). */
export function cleanParsed(parsed: unknown, meta: MessageMeta, rules: CleanRules): CleanOutcome {
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    const kind = parsed === null ? "null" : Array.isArray(parsed) ? "an array" : `a ${typeof parsed}`;
    return dead("not_an_object", `the value is ${kind}, not a JSON object`);
  }
  const record = parsed as Record<string, unknown>;
  const rawId = field(record, "id");
  const id = cleanId(rawId);
  if (id === undefined) {
    const shown = rawId === undefined ? "missing" : truncate(JSON.stringify(rawId) ?? String(rawId));
    return dead("invalid_id", `id is ${rawId === undefined ? shown : `not a safe integer: ${shown}`}`);
  }
  return {
    kind: "row",
    row: {
      id,
      first_name: cleanFirstName(field(record, "first_name"), rules.nullPlaceholder),
      last_name: cleanLastName(field(record, "last_name")),
      email: cleanEmail(field(record, "email"), rules.nullPlaceholder),
      gender: cleanGender(field(record, "gender")),
      ip_addr: cleanIp(field(record, "ip_address"), rules.defaultIp),
      date: compileDateFormats(rules.dateFormats)(field(record, "date")),
      country: cleanCountry(field(record, "country")),
      timestamp: meta.timestamp,
      source_partition: meta.partition,
      source_offset: meta.offset,
    },
  };
}

function dead(reason: "invalid_json" | "not_an_object" | "invalid_id", message: string): CleanOutcome {
  return { kind: "dead", verdict: { reason, message } };
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
