/**
 * The exposure ledger on its own: what a reservation adds to a snapshot's counts in each phase,
 * which snapshot reads still count a settled fill, and how unknown outcomes are held and resolved.
 */
import { describe, expect, test } from "bun:test";
import { brokerOrderKey, orderComment } from "../../shared/protocol/index.ts";
import { ExposureLedger, type ExposureSnapshot, type PositionExposure } from "./exposure-ledger.ts";

const open = (clientOrderId: string, symbol = "EURUSD"): PositionExposure => ({
  kind: "OPEN",
  clientOrderId,
  symbol,
  side: "BUY",
  volume: 0.1,
});

const position = (ticket: number, symbol = "EURUSD", comment = "") => ({ ticket, symbol, comment });

const snapshot = (...positions: ReturnType<typeof position>[]): ExposureSnapshot => ({ positions });

describe("position counts", () => {
  test("an order in flight counts on its symbol until settled", () => {
    const ledger = new ExposureLedger();
    const empty = snapshot(position(1, "USDJPY"));
    const reservation = ledger.reserve(open("a"));
    const during = ledger.count(empty);
    expect([during.total, during.reserved, during.onSymbol("EURUSD")]).toEqual([
      2,
      1,
      { total: 1, reserved: 1 },
    ]);
    reservation.release();
    expect(ledger.count(empty).total).toBe(1);
    expect(ledger.held).toEqual({ IN_FLIGHT: 0, UNKNOWN: 0, SETTLED: 0 });
  });

  test("a position already in the snapshot (its comment tag) is not counted twice", () => {
    const ledger = new ExposureLedger();
    ledger.reserve(open("a"));
    const shown = snapshot(position(7, "EURUSD", orderComment("a", "momentum")));
    expect(ledger.count(shown)).toMatchObject({ total: 1, reserved: 0 });
  });

  test("pending orders in the snapshot count like positions", () => {
    const ledger = new ExposureLedger();
    const counted = ledger.count({
      positions: [position(1)],
      orders: [{ ticket: 9, symbol: "EURUSD", comment: "" }],
    });
    expect([counted.total, counted.onSymbol("EURUSD").total]).toEqual([2, 2]);
  });

  test("a fill counts for reads begun before it, not for reads begun after", () => {
    const ledger = new ExposureLedger();
    const before = ledger.beginRead();
    const reservation = ledger.reserve(open("a"));
    reservation.settle(42);
    const after = ledger.beginRead();
    // The older read's snapshot may predate the fill; the newer one's shows it (or its close)
    expect(ledger.count(snapshot(), before).total).toBe(1);
    expect(ledger.count(snapshot(position(42)), before).total).toBe(1);
    expect(ledger.count(snapshot(), after).total).toBe(0);
    expect(ledger.held.SETTLED).toBe(1);
    before.end();
    after.end();
    expect(ledger.held.SETTLED).toBe(0);
  });

  test("with no read in progress a settled fill is dropped at once", () => {
    const ledger = new ExposureLedger();
    ledger.reserve(open("a")).settle(42);
    expect(ledger.held).toEqual({ IN_FLIGHT: 0, UNKNOWN: 0, SETTLED: 0 });
  });

  test("a decision without a stamped read counts every reservation", () => {
    const ledger = new ExposureLedger();
    const read = ledger.beginRead();
    ledger.reserve(open("a")).settle(42);
    expect(ledger.count(snapshot()).total).toBe(1);
    read.end();
  });
});

describe("unknown outcomes", () => {
  test("an unknown outcome keeps its reservation for every read until resolved", () => {
    const ledger = new ExposureLedger();
    ledger.reserve(open("a")).unknown(1000);
    ledger.reserve(open("b")).unknown(2000);
    const read = ledger.beginRead();
    expect(ledger.count(snapshot(), read).total).toBe(2);
    expect(ledger.unknowns().map((u) => [u.clientOrderId, u.since])).toEqual([
      ["a", 1000],
      ["b", 2000],
    ]);
    ledger.resolve("a", "not_executed");
    ledger.resolve("b", "executed", 77);
    // b executed: still counted for the read begun before it was resolved
    expect(ledger.count(snapshot(), read).total).toBe(1);
    read.end();
    expect(ledger.count(snapshot(), ledger.beginRead()).total).toBe(0);
  });

  test("its position appearing in a snapshot resolves it", () => {
    const ledger = new ExposureLedger();
    ledger.reserve(open("a")).unknown(1000);
    expect(ledger.observe(snapshot(position(5, "EURUSD", orderComment("a", ""))))).toBe(1);
    expect(ledger.unknowns()).toEqual([]);
  });

  test("on a gateway that scopes ids by client, its position carries the scoped key's tag", () => {
    // The gateway tags with brokerOrderKey(client, id) (PING tells the client its name): the
    // plain id's tag never shows, so without the client name the reservation would stay unknown
    const ledger = new ExposureLedger();
    ledger.clientName = "inf-1";
    ledger.reserve(open("a")).unknown(1000);
    const plain = snapshot(position(5, "EURUSD", orderComment("a", "")));
    expect(ledger.observe(plain)).toBe(0);
    const scoped = snapshot(position(5, "EURUSD", orderComment(brokerOrderKey("inf-1", "a"), "")));
    expect(ledger.count(scoped)).toMatchObject({ total: 1, reserved: 0 });
    expect(ledger.observe(scoped)).toBe(1);
    expect(ledger.unknowns()).toEqual([]);
  });

  test("release and settle after an unknown are not undone by late calls", () => {
    const ledger = new ExposureLedger();
    const reservation = ledger.reserve(open("a"));
    reservation.release();
    reservation.unknown(5);
    reservation.settle(3);
    expect(reservation.phase).toBe("RELEASED");
    expect(ledger.held).toEqual({ IN_FLIGHT: 0, UNKNOWN: 0, SETTLED: 0 });
  });
});

describe("closes", () => {
  test("closes in flight add up per ticket; a settled one counts for older reads only", () => {
    const ledger = new ExposureLedger();
    const older = ledger.beginRead();
    const first = ledger.reserve({ kind: "CLOSE", clientOrderId: "c1", ticket: 7, volume: 0.3 });
    ledger.reserve({ kind: "CLOSE", clientOrderId: "c2", ticket: 7, volume: 0.2 });
    ledger.reserve({ kind: "CLOSE", clientOrderId: "c3", ticket: 8, volume: 1 });
    expect(ledger.closing(7, older)).toBeCloseTo(0.5, 10);
    first.settle(7);
    expect(ledger.closing(7, older)).toBeCloseTo(0.5, 10);
    expect(ledger.closing(7, ledger.beginRead())).toBeCloseTo(0.2, 10);
    // Closes never count as positions
    expect(ledger.count(snapshot(), older).total).toBe(0);
  });
});
