/** Public surface of the transport: the two socket patterns, their options and events. */

export {
  type Checked,
  checkHost,
  formatHost,
  type Host,
  type HostPort,
  isLoopbackHost,
  parseHostPort,
  parseListen,
} from "./address.ts";
export { type DealerMessageHandler, DealerSocket } from "./dealer.ts";
export { checkEndpoint, formatEndpoint, parseEndpoint } from "./endpoint.ts";
export type { SocketEvent, SocketEventListener } from "./events.ts";
export { addressGroup, type Network, networkMatcher, parseNetwork } from "./networks.ts";
export { DEFAULTS, MAX_HEARTBEAT_TTL_MS, type Security, type SocketOptions } from "./options.ts";
export { type RouterMessage, type RouterMessageHandler, RouterSocket } from "./router.ts";
