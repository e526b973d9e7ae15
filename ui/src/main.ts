// Must stay the first import: it repairs navigator.language before other modules read it.
import "./lib/locale-fix";
import { mount } from "svelte";
import "./app.css";
import App from "./App.svelte";

/** Shows a fatal start-up error instead of a blank window. */
function showFatal(error: unknown): void {
  const box = document.createElement("pre");
  box.className = "fatal";
  box.setAttribute("role", "alert");
  box.textContent = `The user interface failed to start:\n${error instanceof Error ? `${error.message}\n${error.stack ?? ""}` : String(error)}`;
  document.body.prepend(box);
}

const target = document.getElementById("app");
let app: ReturnType<typeof mount> | undefined;
if (!target) {
  showFatal(new Error("missing #app element"));
} else {
  try {
    app = mount(App, { target });
  } catch (error) {
    showFatal(error);
  }
}

export default app;
