/**
 * Test-only: the journal's file operations on the real file system, counted, with what a power
 * cut would keep (`durable`: the file's size when the last completed fdatasync started) and a
 * switch that makes writes fail like a full disk.
 */
import * as fs from "node:fs";
import type { JournalIo } from "../orders/journal.ts";

export interface RecordingJournalIo extends JournalIo {
  /** fdatasyncs started (both kinds). */
  syncs: number;
  writes: number;
  /** Bytes of the file on disk for sure. */
  durable: number;
  /** While true, a write lands a few bytes and then fails with ENOSPC. */
  failWrites: boolean;
}

export function recordingJournalIo(): RecordingJournalIo {
  const io: RecordingJournalIo = {
    syncs: 0,
    writes: 0,
    durable: 0,
    failWrites: false,
    openSync: (path, flags, mode) => fs.openSync(path, flags, mode),
    writeSync(fd, buffer) {
      io.writes += 1;
      if (io.failWrites) {
        fs.writeSync(fd, buffer.subarray(0, Math.min(5, buffer.length)));
        throw Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" });
      }
      return fs.writeSync(fd, buffer);
    },
    fdatasync(fd, callback) {
      io.syncs += 1;
      const size = fs.fstatSync(fd).size;
      fs.fdatasync(fd, (error) => {
        if (error === null) io.durable = Math.max(io.durable, size);
        callback(error);
      });
    },
    fdatasyncSync(fd) {
      io.syncs += 1;
      const size = fs.fstatSync(fd).size;
      fs.fdatasyncSync(fd);
      io.durable = Math.max(io.durable, size);
    },
    ftruncateSync(fd, length) {
      fs.ftruncateSync(fd, length);
      io.durable = Math.min(io.durable, length);
    },
    closeSync: (fd) => fs.closeSync(fd),
  };
  return io;
}
