/**
 * The write queue against a socket that takes only part of what it is given (a full kernel
 * buffer): every byte goes out once, in order, whatever mix of small frames, adjacent slab
 * frames and large frames was queued, and the pending count stays right.
 */
import { describe, expect, test } from "bun:test";
import type { Socket } from "bun";
import { allocateFrameBytes } from "../zmtp/frame-slab.ts";
import { Connection, type SocketSlot } from "./connection.ts";

/** A stand-in for Bun's socket: accepts up to `budget` bytes per write, records what it took. */
class FakeSocket {
  readonly written: number[] = [];
  writes = 0;
  largestWrite = 0;
  budget = Number.POSITIVE_INFINITY;
  ended = false;
  data: SocketSlot = { connection: undefined };
  readonly remoteAddress = "127.0.0.1";
  readonly remotePort = 5555;

  write(bytes: Uint8Array): number {
    this.writes += 1;
    const taken = Math.min(bytes.length, this.budget);
    for (let i = 0; i < taken; i++) this.written.push(bytes[i] as number);
    this.largestWrite = Math.max(this.largestWrite, taken);
    return taken;
  }
  end(): void {
    this.ended = true;
  }
  terminate(): void {}
  setNoDelay(): void {}
}

function connection(): { socket: FakeSocket; connection: Connection } {
  const socket = new FakeSocket();
  return { socket, connection: new Connection(socket as unknown as Socket<SocketSlot>) };
}

/** Bytes counting up from `start`, so order and duplication both show. */
function bytes(length: number, start: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (start + i) & 0xff);
}

describe("Connection write queue", () => {
  test("small, adjacent slab and large frames arrive whole and in order through partial writes", async () => {
    const { socket, connection: conn } = connection();
    socket.budget = 10_000;
    const expected: number[] = [];
    let counter = 0;
    const queue = (chunk: Uint8Array, frame: boolean) => {
      expected.push(...chunk);
      if (frame) conn.writeFrame(chunk);
      else conn.write(chunk);
      conn.messageQueued();
    };
    for (let round = 0; round < 20; round++) {
      queue(bytes(7, counter++), false);
      const slab = allocateFrameBytes(300);
      slab.set(bytes(300, counter++));
      queue(slab, true);
      const next = allocateFrameBytes(500);
      next.set(bytes(500, counter++));
      queue(next, true);
      queue(bytes(70_000, counter++), round % 2 === 0);
    }
    await Promise.resolve();
    // The kernel keeps taking 10,000 bytes per drain until everything is out
    for (let drains = 0; drains < 1_000 && conn.pendingBytes > 0; drains++) conn.onDrain();
    expect(conn.pendingBytes).toBe(0);
    expect(socket.written.length).toBe(expected.length);
    expect(Buffer.from(socket.written).equals(Buffer.from(expected))).toBe(true);
  });

  test("large frames are written as they are; small ones are batched up to 64 KiB", async () => {
    const { socket, connection: conn } = connection();
    for (let i = 0; i < 100; i++) conn.write(bytes(100, i));
    await Promise.resolve();
    expect(socket.writes).toBe(1);
    for (let i = 0; i < 4; i++) conn.write(bytes(65_536, i));
    await Promise.resolve();
    expect(socket.writes).toBe(5);
    expect(socket.largestWrite).toBe(65_536);
  });

  test("pending bytes count what the kernel has not taken, and end() waits for them", async () => {
    const { socket, connection: conn } = connection();
    socket.budget = 1_000;
    conn.write(bytes(3_000, 0));
    conn.write(bytes(40_000, 1));
    await Promise.resolve();
    expect(conn.pendingBytes).toBe(42_000);
    socket.budget = Number.POSITIVE_INFINITY;
    conn.onDrain();
    expect(conn.pendingBytes).toBe(0);
    conn.end();
    expect(socket.ended).toBe(true);
  });
});
