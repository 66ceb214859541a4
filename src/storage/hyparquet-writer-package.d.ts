// hyparquet-writer's package.json is outside its "exports" map; Bun resolves it, tsc needs its shape.
declare module "hyparquet-writer/package.json" {
  const pkg: { version: string };
  export default pkg;
}
