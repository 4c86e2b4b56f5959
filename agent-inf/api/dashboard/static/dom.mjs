/**
 * Small helpers for the dashboard's modules: building DOM and SVG nodes, formatting numbers and
 * times, and calling the agent. Data reaches the page only as text (textContent, attributes),
 * never as HTML, so nothing a gateway or a broker sends can become markup or script.
 */

export const SVG_NS = "http://www.w3.org/2000/svg";

/** `el("td", { class: "num" }, "1.5")`: attributes, then children (nodes or text). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes))
    if (value !== undefined && value !== null && value !== false)
      node.setAttribute(name, String(value));
  node.append(...children.filter((child) => child !== undefined && child !== null).map(asNode));
  return node;
}

export function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes))
    if (value !== undefined && value !== null) node.setAttribute(name, String(value));
  node.append(...children.filter((child) => child !== undefined && child !== null).map(asNode));
  return node;
}

function asNode(child) {
  return typeof child === "object" ? child : document.createTextNode(String(child));
}

/** A badge: the state in words, the colour only as a second cue. */
export function badge(text, tone) {
  return el("span", { class: `badge ${tone}` }, text);
}

export function byId(id) {
  const node = document.getElementById(id);
  if (node === null) throw new Error(`dashboard: no element #${id}`);
  return node;
}

const dash = "–";

export const fmt = {
  money(value) {
    return typeof value === "number"
      ? value.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })
      : dash;
  },
  number(value, digits = 2) {
    return typeof value === "number" ? value.toFixed(digits) : dash;
  },
  /** A price as the broker sent it (its own digits). */
  price(value) {
    return typeof value === "number" ? String(value) : dash;
  },
  percent(value, digits = 1) {
    return typeof value === "number" ? `${value.toFixed(digits)} %` : dash;
  },
  ms(value) {
    if (typeof value !== "number") return dash;
    return value < 1
      ? `${(value * 1000).toFixed(0)} µs`
      : value < 100
        ? `${value.toFixed(2)} ms`
        : `${value.toFixed(0)} ms`;
  },
  time(ms) {
    return typeof ms === "number"
      ? new Date(ms).toLocaleTimeString("en-GB", { hour12: false })
      : dash;
  },
  dateTime(ms) {
    return typeof ms === "number" ? new Date(ms).toLocaleString("en-GB", { hour12: false }) : dash;
  },
  dash,
};

/** Digits after the point in a price as sent (1.10125 has 5). */
export function decimals(value) {
  const text = String(value);
  const point = text.indexOf(".");
  return point < 0 ? 0 : text.length - point - 1;
}

export class HttpError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let csrfToken = "";

/** The session's CSRF token, sent with every request that changes something. */
export function setCsrfToken(token) {
  csrfToken = token;
}

/** The session ended (logout elsewhere, expiry, agent restart): back to the login page. */
export function toLogin() {
  window.location.assign("/dashboard/login");
}

/**
 * Call the agent: `path` under /dashboard (the session cookie goes along by itself). A 401
 * means the session is gone: the login page. Other refusals throw HttpError with the API's code.
 */
export async function call(path, { method = "GET", body } = {}) {
  const headers = { accept: "application/json" };
  if (method !== "GET") {
    headers["content-type"] = "application/json";
    headers["x-csrf-token"] = csrfToken;
  }
  const response = await fetch(`/dashboard${path}`, {
    method,
    headers,
    credentials: "same-origin",
    cache: "no-store",
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed = {};
  try {
    parsed = text === "" ? {} : JSON.parse(text);
  } catch {
    parsed = {};
  }
  if (response.status === 401 && !path.startsWith("/login")) {
    toLogin();
    throw new HttpError(401, "UNAUTHORIZED", "the session ended");
  }
  if (!response.ok) {
    const error = parsed.error ?? {};
    throw new HttpError(
      response.status,
      error.code ?? `HTTP_${response.status}`,
      error.message ?? response.statusText,
    );
  }
  return parsed;
}
