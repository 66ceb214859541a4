/**
 * One Kafka message's value → a cleaned row, or the reason it goes to the dead-letter topic.
 * Pure and total: whatever bytes arrive (invalid UTF-8, hostile nesting, `__proto__` keys, huge
 * strings), the answer is a row or a dead letter, never an exception. Runs once per record.
 */
import {
  cleanCountry, cleanEmail, cleanFirstName, cleanGender, cleanId, cleanIp, cleanLastName, compileDateFormats, describeBadId, shorten,
  type DateMatcher,
} from "./rules.ts";
import { parseFlatObject } from "./flat-json.ts";
import type { CleanOutcome, CleanRules, DeadLetterReason } from "./types.ts";
import { isRepresentableWindow, windowOf } from "./window.ts";

/** Where and when the message was read. */
export interface MessageMeta {
  /** Kafka record timestamp, ms since the epoch. */
  readonly timestamp: number;
  readonly partition: number;
  /** Kafka offset (int64). */
  readonly offset: bigint;
}

/** Longest text taken from the input into a dead-letter message (it travels in a Kafka header). */
const MAX_DETAIL = 200;

// fatal: invalid UTF-8 is refused rather than replaced. A leading byte-order mark is dropped,
// as RFC 8259 lets a JSON parser do.
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Cleans one message value. A tombstone (null value) is dead-lettered as invalid_json: it holds no JSON. */
export function cleanMessage(value: Uint8Array | null, meta: MessageMeta, rules: CleanRules): CleanOutcome {
  if (value === null) return dead("invalid_json", "the message has no value (a tombstone), so no JSON");
  // Nearly every value is a flat object: read its fields straight from the bytes. Anything else
  // (and every error) takes the exact path below, so its verdict and message are JSON.parse's.
  const fields = parseFlatObject(value);
  if (fields !== undefined) return cleanParsed(fields, meta, rules);
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
    // SyntaxError for bad JSON; RangeError when nesting exhausts the parser's stack.
    const detail = error instanceof Error ? error.message : "unknown parser error";
    return dead("invalid_json", `the value is not valid JSON: ${shorten(detail, MAX_DETAIL)}`);
  }
  return cleanParsed(parsed, meta, rules);
}

// The rules object stays the same for a whole run: keep its date matcher at hand.
let matcherFormats: readonly string[] | undefined;
let matcher: DateMatcher = () => null;

/**
 * The rules applied to a value JSON.parse returned (exported so that tests can check that
 * cleaning a cleaned row changes nothing). Fields are read as own properties only, so a
 * `__proto__` or `constructor` key is data and a missing field never resolves to Object.prototype's.
 */
export function cleanParsed(parsed: unknown, meta: MessageMeta, rules: CleanRules): CleanOutcome {
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    const kind = parsed === null ? "null" : Array.isArray(parsed) ? "an array" : `a ${typeof parsed}`;
    return dead("not_an_object", `the value is ${kind}, not a JSON object`);
  }
  const record = parsed as Record<string, unknown>;
  const rawId = Object.hasOwn(record, "id") ? record.id : undefined;
  const id = cleanId(rawId);
  if (id === undefined) return dead("invalid_id", describeBadId(rawId));
  const { timestamp } = meta;
  if (!Number.isInteger(timestamp) || !isRepresentableWindow(windowOf(timestamp, rules.windowMs))) {
    return dead("invalid_timestamp", `the record timestamp ${timestamp} ms is not a whole number of ms within ±8.64e15 of the epoch`);
  }
  if (rules.dateFormats !== matcherFormats) {
    matcherFormats = rules.dateFormats;
    matcher = compileDateFormats(rules.dateFormats);
  }
  return {
    kind: "row",
    row: {
      id,
      first_name: cleanFirstName(Object.hasOwn(record, "first_name") ? record.first_name : undefined, rules.nullPlaceholder),
      last_name: cleanLastName(Object.hasOwn(record, "last_name") ? record.last_name : undefined),
      email: cleanEmail(Object.hasOwn(record, "email") ? record.email : undefined, rules.nullPlaceholder),
      gender: cleanGender(Object.hasOwn(record, "gender") ? record.gender : undefined),
      ip_addr: cleanIp(Object.hasOwn(record, "ip_address") ? record.ip_address : undefined, rules.defaultIp),
      date: matcher(Object.hasOwn(record, "date") ? record.date : undefined),
      country: cleanCountry(Object.hasOwn(record, "country") ? record.country : undefined),
      timestamp,
      source_partition: meta.partition,
      source_offset: meta.offset,
    },
  };
}

function dead(reason: DeadLetterReason, message: string): CleanOutcome {
  return { kind: "dead", verdict: { reason, message } };
}
