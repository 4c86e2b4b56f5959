/**
 * Operator controls: halt, reduce, resume, engage and reset the breaker. Shown only to an
 * operator session (a strategy session never gets the buttons, and the agent refuses the
 * request with 403 anyway); each asks for confirmation and a reason before it is sent.
 */
import { byId, call, el, HttpError } from "./dom.mjs";

const ACTIONS = {
  halt: {
    title: "Halt trading",
    path: "/v1/trading-state",
    body: { state: "HALTED" },
    effect: "HALTED: every new order is refused (TRADING_HALTED) until an operator resumes.",
  },
  reduce: {
    title: "Reduce only",
    path: "/v1/trading-state",
    body: { state: "REDUCING" },
    effect: "REDUCING: only closes and modifications pass; new positions are refused.",
    override: true,
  },
  resume: {
    title: "Resume trading",
    path: "/v1/trading-state",
    body: { state: "ACTIVE" },
    effect: "ACTIVE: orders pass the risk checks again.",
    override: true,
  },
  engage: {
    title: "Engage the breaker",
    path: "/v1/breaker",
    body: { action: "engage" },
    effect:
      "the breaker refuses new positions (BREAKER_OPEN) until an operator resets it; closes still pass.",
  },
  reset: {
    title: "Reset the breaker",
    path: "/v1/breaker",
    body: { action: "reset" },
    effect: "the breaker lets new positions through again.",
  },
};

export function setupControls({ role, gateways, onChanged }) {
  const section = byId("controls");
  if (role !== "operator") {
    // Absent, not merely hidden: a strategy session has nothing to click
    section.remove();
    byId("controls-note").hidden = false;
    return;
  }
  section.hidden = false;
  const scope = byId("control-scope");
  scope.replaceChildren(
    el("option", { value: "" }, "all gateways"),
    ...gateways.map((name) => el("option", { value: name }, name)),
  );
  const dialog = byId("confirm");
  const form = byId("confirm-form");
  const reason = byId("confirm-reason");
  const override = byId("confirm-override");
  const error = byId("confirm-error");
  let pending;

  for (const button of section.querySelectorAll("button[data-action]")) {
    button.addEventListener("click", () => {
      const action = ACTIONS[button.dataset.action];
      const gateway = scope.value;
      pending = { action, gateway };
      byId("confirm-title").textContent = `${action.title}?`;
      byId("confirm-text").textContent =
        `${gateway === "" ? "All gateways" : `Gateway ${gateway}`}: ${action.effect}`;
      reason.value = "operator via dashboard";
      override.checked = false;
      byId("override-row").hidden = action.override !== true;
      error.textContent = "";
      dialog.showModal();
      reason.select();
    });
  }
  byId("confirm-cancel").addEventListener("click", () => dialog.close());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (pending === undefined) return;
    const { action, gateway } = pending;
    const ok = byId("confirm-ok");
    ok.disabled = true;
    try {
      await call(action.path, {
        method: "POST",
        body: {
          ...action.body,
          reason: reason.value.trim() || "operator via dashboard",
          ...(gateway === "" ? {} : { gateway }),
          ...(action.override === true && override.checked ? { override_risk: true } : {}),
        },
      });
      dialog.close();
      pending = undefined;
      onChanged();
    } catch (failure) {
      error.textContent =
        failure instanceof HttpError && failure.code === "RISK_HOLD"
          ? `${failure.message} Tick "Override a loss limit's hold" to lift it.`
          : `Refused: ${failure.message ?? failure}`;
    } finally {
      ok.disabled = false;
    }
  });
}
