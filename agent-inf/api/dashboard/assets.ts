/**
 * The dashboard's browser files, embedded: each is imported as text, so running from source
 * reads them from static/ and `bun build --compile` puts them inside the single binary. Nothing
 * is fetched from elsewhere at run time, and there is no build step: the browser loads these
 * plain JavaScript modules as they are.
 */
import appJs from "./static/app.mjs" with { type: "text" };
import chartsJs from "./static/charts.mjs" with { type: "text" };
import controlsJs from "./static/controls.mjs" with { type: "text" };
import css from "./static/dashboard.css" with { type: "text" };
import domJs from "./static/dom.mjs" with { type: "text" };
import everyJs from "./static/every.mjs" with { type: "text" };
import iconSvg from "./static/icon.svg" with { type: "text" };
import indexHtml from "./static/index.html" with { type: "text" };
import loginHtml from "./static/login.html" with { type: "text" };
import loginJs from "./static/login.mjs" with { type: "text" };
import panelsJs from "./static/panels.mjs" with { type: "text" };
import streamJs from "./static/stream.mjs" with { type: "text" };

export interface Asset {
  readonly body: string;
  readonly type: string;
}

// bun-types declare *.html as an HTMLBundle (Bun's full-stack bundler); with type "text" the
// import is the file's text
const html = (text: unknown): Asset => ({ body: text as string, type: "text/html; charset=utf-8" });
const js = (text: string): Asset => ({ body: text, type: "text/javascript; charset=utf-8" });

export const PAGES = { index: html(indexHtml), login: html(loginHtml) } as const;

/** By file name, under /dashboard/assets/. */
export const ASSETS: ReadonlyMap<string, Asset> = new Map([
  ["dashboard.css", { body: css, type: "text/css; charset=utf-8" }],
  ["app.mjs", js(appJs)],
  ["charts.mjs", js(chartsJs)],
  ["controls.mjs", js(controlsJs)],
  ["dom.mjs", js(domJs)],
  ["every.mjs", js(everyJs)],
  ["icon.svg", { body: iconSvg, type: "image/svg+xml" }],
  ["login.mjs", js(loginJs)],
  ["panels.mjs", js(panelsJs)],
  ["stream.mjs", js(streamJs)],
]);
