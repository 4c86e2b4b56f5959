/** The login page: the token goes to the agent once, which answers with a session cookie. */
import { byId, call, HttpError } from "./dom.mjs";

const form = byId("login-form");
const input = byId("token");
const error = byId("login-error");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.textContent = "";
  const button = byId("login");
  button.disabled = true;
  try {
    await call("/login", { method: "POST", body: { token: input.value.trim() } });
    input.value = "";
    window.location.assign("/dashboard/");
  } catch (failure) {
    error.textContent =
      failure instanceof HttpError
        ? failure.status === 401
          ? "That is not the API token or the operator token."
          : failure.message
        : `The agent did not answer: ${failure}`;
  } finally {
    button.disabled = false;
  }
});
