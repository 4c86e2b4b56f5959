/**
 * EVENT messages (stream-types.ts): telling them apart from replies, reading them strictly on
 * the client, and encoding them on the gateway.
 *
 * Reading follows validate-reply.ts: known fields are checked and copied, unknown fields are
 * dropped. An event type this build does not know (a newer gateway) is not an error: it comes
 * back as `unknown` with its seq, so the client keeps counting and sees no false gap.
 */
import { describeValue } from "./checks.ts";
import { ORDER_EVENT_SHAPES } from "./pending-shapes.ts";
import {
  count,
  DEAL_REASONS,
  DEAL_SHAPE,
  finite,
  Invalid,
  MT_LINK_SHAPE,
  nested,
  oneOf,
  POSITION_SHAPE,
  type ReplyErrorCode,
  readShape,
  req,
  type Shape,
  shapeReader,
  shortText,
  text,
} from "./reply-shapes.ts";
import { EVENT_TYPES, type EventType, type StreamEvent } from "./stream-types.ts";
import { PROTOCOL_VERSION } from "./types.ts";
import { decodeMessage } from "./validate-reply.ts";

export type ParseEventResult =
  | { readonly ok: true; readonly event: StreamEvent }
  /** A well-formed event of a type this build does not know; skip it but count its seq. */
  | { readonly ok: true; readonly event: undefined; readonly unknown: string; readonly seq: number }
  | {
      readonly ok: false;
      readonly error: { readonly code: ReplyErrorCode; readonly message: string };
    };

const BODY_SHAPES: Readonly<Record<EventType, Shape>> = {
  QUOTE: [req("symbol", shortText), req("bid", finite), req("ask", finite), req("time", count)],
  DEAL: [nested("deal", true, shapeReader(DEAL_SHAPE))],
  POSITION_CLOSED: [
    req("ticket", count),
    req("symbol", shortText),
    req("reason", oneOf(DEAL_REASONS)),
    nested("deal", true, shapeReader(DEAL_SHAPE)),
  ],
  POSITION_MODIFIED: [nested("position", true, shapeReader(POSITION_SHAPE))],
  LINK_STATE: [nested("mt5", true, shapeReader(MT_LINK_SHAPE))],
  RESYNC_REQUIRED: [req("reason", text(1024))],
  ...ORDER_EVENT_SHAPES,
};

const KNOWN: ReadonlySet<string> = new Set(EVENT_TYPES);
const EVENT_NAME = /^[A-Z][A-Z0-9_]{0,63}$/;

/**
 * Whether a decoded message from the gateway is an event rather than a reply: it names an
 * `event` and carries neither `status` nor `id`. Cheap: three own-property checks.
 */
export function isEventObject(value: Record<string, unknown>): boolean {
  return (
    Object.hasOwn(value, "event") && !Object.hasOwn(value, "status") && !Object.hasOwn(value, "id")
  );
}

/** One event frame, bytes in. */
export function parseEvent(bytes: Uint8Array): ParseEventResult {
  const decoded = decodeMessage(bytes);
  return decoded.ok ? parseEventObject(decoded.value) : decoded;
}

/** A decoded object (see isEventObject) checked as an event. Never throws. */
export function parseEventObject(source: Record<string, unknown>): ParseEventResult {
  try {
    const version = source["v"];
    if (version !== PROTOCOL_VERSION) {
      throw typeof version === "number"
        ? new Invalid(
            "v",
            `is ${version}, this peer speaks ${PROTOCOL_VERSION}`,
            "UNSUPPORTED_VERSION",
          )
        : new Invalid("v", `must be ${PROTOCOL_VERSION}, was ${describeValue(version)}`);
    }
    const head = readShape(source, [req("event", eventName), req("seq", positive)], "");
    const name = head["event"] as string;
    const seq = head["seq"] as number;
    if (!KNOWN.has(name)) return { ok: true, event: undefined, unknown: name, seq };
    const body = readShape(source, BODY_SHAPES[name as EventType], "");
    return { ok: true, event: { v: PROTOCOL_VERSION, event: name, seq, ...body } as StreamEvent };
  } catch (error) {
    if (error instanceof Invalid) {
      const message = error.field === "" ? error.message : `field ${error.field} ${error.message}`;
      return { ok: false, error: { code: error.code, message: `event: ${message}` } };
    }
    return {
      ok: false,
      error: { code: "INVALID_REPLY", message: `event could not be read (${String(error)})` },
    };
  }
}

function eventName(value: unknown): string | undefined {
  return typeof value === "string" && EVENT_NAME.test(value)
    ? undefined
    : "must be an event name (A-Z 0-9 _)";
}

function positive(value: unknown): string | undefined {
  return count(value) === undefined && (value as number) > 0
    ? undefined
    : "must be a positive integer";
}

// ---------------------------------------------------------------------------------------------
// Encoding (gateway)

const encoder = new TextEncoder();

/**
 * An event body encoded once and sent to many peers: the JSON of its fields without the braces,
 * so each peer's frame only adds its own seq in front.
 */
export interface EncodedEvent {
  readonly type: EventType;
  /** `"symbol":"EURUSD","bid":…` (no braces). */
  readonly body: string;
}

export function encodeEventBody(type: EventType, fields: object): EncodedEvent {
  return { type, body: JSON.stringify(fields).slice(1, -1) };
}

/** The frame for one peer: `{"v":1,"event":…,"seq":…,<body>}`. */
export function encodeEventFrame(event: EncodedEvent, seq: number): Uint8Array {
  return encoder.encode(
    `{"v":${PROTOCOL_VERSION},"event":"${event.type}","seq":${seq},${event.body}}`,
  );
}
