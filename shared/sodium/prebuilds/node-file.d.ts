/** A `.node` file imported `with { type: "file" }`: Bun yields its path (embedded when compiled). */
declare module "*.node" {
  const path: string;
  export default path;
}
