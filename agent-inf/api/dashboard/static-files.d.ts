/**
 * The dashboard's browser files are imported `with { type: "text" }` (assets.ts), so each import
 * is the file's text, and `bun build --compile` embeds it in the binary. Only the dashboard's
 * static/ folder has files of these kinds.
 */
declare module "*.mjs" {
  const text: string;
  export default text;
}

declare module "*.css" {
  const text: string;
  export default text;
}

declare module "*.svg" {
  const text: string;
  export default text;
}
