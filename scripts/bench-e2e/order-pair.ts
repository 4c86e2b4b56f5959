/**
 * The order pair every order benchmark times: a signed OPEN of 0.01 EURUSD straight to a gateway,
 * then the CLOSE of the position it opened. Returns both round trips in ms (NaN for a CLOSE that
 * could not be sent because the OPEN did not fill); what did not fill is told to `failed`.
 */
import type { TradeReply } from "../../shared/protocol/index.ts";
import type { TestClient } from "../harness/test-client.ts";

export async function orderPair(
  client: TestClient,
  failed: (message: string) => void,
): Promise<[number, number]> {
  const t0 = Bun.nanoseconds();
  const open = (await client.send({
    action: "OPEN",
    symbol: "EURUSD",
    side: "BUY",
    volume: 0.01,
  })) as TradeReply;
  const t1 = Bun.nanoseconds();
  if (open.status !== "FILLED") {
    failed(`OPEN not filled: ${open.error_code ?? open.status}`);
    return [(t1 - t0) / 1e6, Number.NaN];
  }
  const close = await client.send({ action: "CLOSE", ticket: open.ticket as number });
  const t2 = Bun.nanoseconds();
  if (close.status !== "FILLED") failed(`CLOSE not filled: ${close.error_code ?? close.status}`);
  return [(t1 - t0) / 1e6, (t2 - t1) / 1e6];
}
