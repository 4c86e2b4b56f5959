/**
 * Shape checks for what the sim reads back from disk (book.ts, pending/order-book.ts): a record
 * that parses as JSON but is not one of ours is corruption, reported rather than half-applied.
 */

export type Shape = Record<string, unknown>;

export const isObject = (value: unknown): value is Shape =>
  typeof value === "object" && value !== null && !Array.isArray(value);
export const isNumber = (value: unknown): value is number =>
  typeof value === "number" && Number.isFinite(value);
export const isPrice = (value: unknown): boolean => value === null || isNumber(value);
export const isSide = (value: unknown): boolean => value === "BUY" || value === "SELL";
export const isOneOf =
  (values: readonly string[]) =>
  (value: unknown): boolean =>
    typeof value === "string" && values.includes(value);
