/**
 * ZeroMQ TCP endpoints (`tcp://host:port`, zmq_tcp(7)): parsing and validation. Only the tcp
 * transport exists in this project; `*` means every interface when binding and port `*` or 0
 * asks the OS for a free port.
 */
import { AgentError, FaultCode } from "../errors.ts";

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

const MAX_ENDPOINT_LENGTH = 300;

export function parseEndpoint(text: string, purpose: "bind" | "connect"): Endpoint {
  const fail = (why: string): never => {
    throw new AgentError(
      FaultCode.ENDPOINT_INVALID,
      `net: endpoint ${JSON.stringify(text.slice(0, 80))} is invalid: ${why}`,
    );
  };
  if (text.length > MAX_ENDPOINT_LENGTH) fail("too long");
  if (!text.startsWith("tcp://")) fail("only tcp:// endpoints are supported");
  const rest = text.slice("tcp://".length);
  const colon = rest.lastIndexOf(":");
  if (colon <= 0) fail("expected tcp://host:port");
  let host = rest.slice(0, colon);
  const portText = rest.slice(colon + 1);
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  if (host === "*") {
    if (purpose === "connect") fail("cannot connect to *");
    host = "0.0.0.0";
  }
  if (!/^[A-Za-z0-9.\-:]+$/.test(host)) fail("host has characters that are not allowed");
  let port: number;
  if (portText === "*") {
    port = 0;
  } else {
    if (!/^\d{1,5}$/.test(portText)) fail("port must be a number or *");
    port = Number(portText);
  }
  if (port > 65535) fail("port must be at most 65535");
  if (port === 0 && purpose === "connect") fail("cannot connect to port 0");
  return { host, port };
}

export function formatEndpoint(endpoint: Endpoint): string {
  const host = endpoint.host.includes(":") ? `[${endpoint.host}]` : endpoint.host;
  return `tcp://${host}:${endpoint.port}`;
}

/** True for addresses that never leave the machine. */
export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
