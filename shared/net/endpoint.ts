/**
 * ZeroMQ TCP endpoints (`tcp://host:port`, zmq_tcp(7)): parsing and validation. Only the tcp
 * transport exists in this project; `*` means every interface when binding and port `*` or 0
 * asks the OS for a free port. Hosts follow address.ts (canonical spellings, IPv6 in brackets).
 */
import { AgentError, FaultCode } from "../errors.ts";
import { type Checked, formatHost, parseHostPort } from "./address.ts";

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

const MAX_ENDPOINT_LENGTH = 300;

/** An endpoint as a value: `{ ok: false, reason }` says what is wrong with it. */
export function checkEndpoint(text: string, purpose: "bind" | "connect"): Checked<Endpoint> {
  if (text.length > MAX_ENDPOINT_LENGTH) return { ok: false, reason: "too long" };
  if (!text.startsWith("tcp://"))
    return { ok: false, reason: "only tcp:// endpoints are supported" };
  const parsed = parseHostPort(text.slice("tcp://".length), { allowWildcard: purpose === "bind" });
  if (!parsed.ok) return parsed;
  const { host, port } = parsed.value;
  if (port === 0 && purpose === "connect") return { ok: false, reason: "cannot connect to port 0" };
  return { ok: true, value: { host: host.host, port } };
}

/** checkEndpoint, throwing ENDPOINT_INVALID. */
export function parseEndpoint(text: string, purpose: "bind" | "connect"): Endpoint {
  const checked = checkEndpoint(text, purpose);
  if (!checked.ok)
    throw new AgentError(
      FaultCode.ENDPOINT_INVALID,
      `net: endpoint ${JSON.stringify(text.slice(0, 80))} is invalid: ${checked.reason}`,
    );
  return checked.value;
}

export function formatEndpoint(endpoint: Endpoint): string {
  return `tcp://${formatHost(endpoint.host)}:${endpoint.port}`;
}
