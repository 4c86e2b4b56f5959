/**
 * Memory for outgoing frames, carved from shared ArrayBuffers (a bump allocator, as Node pools
 * small Buffers). Why: every frame needs an allocation and two views (the N-API crypto backend
 * takes them), and on Bun a fresh small `new Uint8Array(n)` lives in the JS heap and is copied
 * out at the first view, while allocating an ArrayBuffer per frame costs more than the frame's
 * seal at 100 B. A view of a slab costs neither: a 1 KiB MESSAGE seal measured 10–25 % cheaper
 * from the slab than from a fresh array (scripts/bench/curve-path.ts, allocation rows).
 *
 * Each slab is used once, front to back, and then dropped: bytes are never handed out twice, so
 * a frame still queued for the socket can never be overwritten by a later one. A slab is freed
 * by the garbage collector once no frame carved from it is referenced. Large frames get their
 * own buffer.
 *
 * Frames allocated one after another are adjacent (no padding), so a connection that queues
 * them in that order writes them as one view instead of concatenating (Connection.writeFrame).
 */

const SLAB_BYTES = 256 * 1024;
/** Above this a frame gets a buffer of its own rather than most of a slab. */
const OWN_BUFFER_FROM = 16 * 1024;
/** JavaScriptCore's limit for typed arrays allocated in its heap (fastSizeLimit), in bytes. */
const IN_HEAP_LIMIT = 1000;

let slab = new ArrayBuffer(SLAB_BYTES);
let used = 0;

/**
 * `length` zero-filled bytes of their own that views can be taken of without a copy: up to 1000
 * bytes JavaScriptCore keeps a plain array in its heap and copies it out at the first view, so
 * those get an ArrayBuffer; above that a plain array is already out of line, and allocating it
 * measured a few percent cheaper than an ArrayBuffer at 64 KiB, seal included.
 */
export function allocateOwnBytes(length: number): Uint8Array {
  return length > IN_HEAP_LIMIT ? new Uint8Array(length) : new Uint8Array(new ArrayBuffer(length));
}

/** `length` zero-filled bytes, a view that no other allocation overlaps. */
export function allocateFrameBytes(length: number): Uint8Array {
  if (length >= OWN_BUFFER_FROM) return allocateOwnBytes(length);
  if (used + length > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    used = 0;
  }
  const bytes = new Uint8Array(slab, used, length);
  used += length;
  return bytes;
}
