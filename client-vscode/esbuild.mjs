// One CommonJS bundle for the extension host; `vscode` is provided by the host at run time.
import { build } from "esbuild";

await build({
  entryPoints: ["src/extension.ts"],
  bundle: true,
  outfile: "dist/extension.js",
  external: ["vscode"],
  format: "cjs",
  platform: "node",
  target: "node20",
  sourcemap: true,
  minify: process.argv.includes("--production"),
  logLevel: "info",
});
