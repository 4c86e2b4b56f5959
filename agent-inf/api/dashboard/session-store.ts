/**
 * The dashboard's login sessions (docs/DASHBOARD.md §2). A login with a token makes a session:
 * a random id the browser keeps in an HttpOnly cookie, mapped here to the token's role. The
 * token itself never reaches the cookie, the page or the log.
 *
 * - The id is 32 random bytes; only its SHA-256 digest is kept, so the store (a heap dump, a
 *   debugger) holds nothing a browser could present.
 * - Each session has its own CSRF token, which the page reads once (GET /dashboard/session) and
 *   sends back in a header with every state-changing request.
 * - A session ends at logout (revoked), after `idleMs` without a request, or `ttlMs` after the
 *   login, whichever comes first; on a monotonic clock, so setting the wall clock changes
 *   nothing. Its streams end with it (onEnd).
 * - At most `maxSessions` live at once: a new login pushes out the least recently used one.
 *   In memory only: an agent restart logs everyone out.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Clock, TimerHandle } from "../../../shared/clock.ts";
import type { Role, Session } from "../auth.ts";

export type { Session };

export interface SessionLimits {
  /** From the login, at most this long. */
  readonly ttlMs: number;
  /** Without a request this long, the session ends. */
  readonly idleMs: number;
  readonly maxSessions: number;
}

export const DEFAULT_MAX_SESSIONS = 32;

/** base64url of 32 bytes; anything else is not a session id and is never looked up. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

interface Entry extends Session {
  readonly key: string;
  lastSeen: number;
  readonly listeners: Set<() => void>;
}

export class SessionStore {
  readonly #clock: Clock;
  readonly #limits: SessionLimits;
  /** By the id's digest, in least-recently-used order (Map keeps insertion order). */
  readonly #sessions = new Map<string, Entry>();
  readonly #sweeper: TimerHandle;

  constructor(clock: Clock, limits: SessionLimits) {
    for (const [name, value] of Object.entries(limits))
      if (!Number.isSafeInteger(value) || value <= 0)
        throw new RangeError(`sessions: ${name} must be a positive integer, was ${value}`);
    this.#clock = clock;
    this.#limits = limits;
    // Ends the streams of sessions nobody uses any more; a request finds expiry by itself
    this.#sweeper = clock.setInterval(
      () => this.sweep(),
      Math.max(1000, Math.min(60_000, limits.idleMs)),
    );
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** A new session for `role`; `id` goes into the cookie and nowhere else. */
  create(role: Role): { readonly id: string; readonly session: Session } {
    const id = randomBytes(32).toString("base64url");
    const csrfToken = randomBytes(32).toString("base64url");
    const now = this.#clock.monotonic();
    const listeners = new Set<() => void>();
    const entry: Entry = {
      key: digest(id),
      role,
      csrfToken,
      createdAt: now,
      lastSeen: now,
      listeners,
      csrfMatches: (given) => given !== null && constantTimeEqual(given, csrfToken),
      onEnd: (fn) => {
        listeners.add(fn);
        return () => listeners.delete(fn);
      },
    };
    this.#sessions.set(entry.key, entry);
    while (this.#sessions.size > this.#limits.maxSessions) {
      const oldest = this.#sessions.values().next().value as Entry;
      this.#end(oldest);
    }
    return { id, session: entry };
  }

  /** The live session `id` names, touched (its idle time starts again); else undefined. */
  find(id: string | undefined): Session | undefined {
    if (id === undefined || !SESSION_ID.test(id)) return undefined;
    const entry = this.#sessions.get(digest(id));
    if (entry === undefined) return undefined;
    const now = this.#clock.monotonic();
    if (this.#expired(entry, now)) {
      this.#end(entry);
      return undefined;
    }
    entry.lastSeen = now;
    // Most recently used last
    this.#sessions.delete(entry.key);
    this.#sessions.set(entry.key, entry);
    return entry;
  }

  /** Logout: the session `id` names ends now. False when there was none. */
  revoke(id: string | undefined): boolean {
    if (id === undefined || !SESSION_ID.test(id)) return false;
    const entry = this.#sessions.get(digest(id));
    if (entry === undefined) return false;
    this.#end(entry);
    return true;
  }

  /** End every expired session (a timer calls this too). */
  sweep(): void {
    const now = this.#clock.monotonic();
    for (const entry of [...this.#sessions.values()])
      if (this.#expired(entry, now)) this.#end(entry);
  }

  /** End every session and stop the sweeper (the API is stopping). */
  dispose(): void {
    this.#sweeper.cancel();
    for (const entry of [...this.#sessions.values()]) this.#end(entry);
  }

  #expired(entry: Entry, now: number): boolean {
    return (
      now - entry.createdAt >= this.#limits.ttlMs || now - entry.lastSeen >= this.#limits.idleMs
    );
  }

  #end(entry: Entry): void {
    if (!this.#sessions.delete(entry.key)) return;
    for (const fn of [...entry.listeners]) fn();
    entry.listeners.clear();
  }
}

function digest(id: string): string {
  return createHash("sha256").update(id).digest("hex");
}

function constantTimeEqual(given: string, expected: string): boolean {
  // Equal-length digests: neither the length nor the first differing byte shows in the timing
  return timingSafeEqual(
    createHash("sha256").update(given).digest(),
    createHash("sha256").update(expected).digest(),
  );
}
