// Builds the browser assets into ../webapp/static/build/ (git-ignored):
//   app-<hash>.js (+ lazily loaded chunks), app-<hash>.css, run-worker-<hash>.js,
//   sw.js (the service worker, fixed name, carries the asset list), pyodide-<version>/ (the
//   runtime copied from the npm package) and manifest.json, which the Flask app reads to
//   put hashed names into the page. Every text and wasm file gets .gz and .br twins so the
//   server can send them compressed without compressing per request.
import { build } from "esbuild";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";

const here = path.dirname(fileURLToPath(import.meta.url));
// Built into a sibling folder and swapped in at the end, so a running server never serves a
// half-written build.
const final = path.resolve(here, "../webapp/static/build");
const out = `${final}.next`;
const watch = process.argv.includes("--watch");
const pyodideVersion = JSON.parse(
  fs.readFileSync(path.join(here, "node_modules/pyodide/package.json"), "utf8"),
).version;
const pyodideDir = `pyodide-${pyodideVersion}`;
const PYODIDE_FILES = [
  "pyodide.mjs",
  "pyodide.asm.mjs",
  "pyodide.asm.wasm",
  "python_stdlib.zip",
  "pyodide-lock.json",
];
const COMPRESSIBLE = /\.(js|mjs|css|json|wasm|zip|svg|map)$/;

function step(message) {
  process.stdout.write(`[assets] ${message}\n`);
}

function rel(file) {
  return path.relative(out, file).split(path.sep).join("/");
}

async function bundle() {
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  const result = await build({
    entryPoints: {
      app: path.join(here, "src/app.js"),
      "app-style": path.join(here, "src/styles/app.css"),
      "run-worker": path.join(here, "src/run-worker.js"),
    },
    bundle: true,
    splitting: true,
    format: "esm",
    target: ["es2022"],
    minify: true,
    sourcemap: false,
    legalComments: "linked",
    entryNames: "[name]-[hash]",
    chunkNames: "chunk-[hash]",
    assetNames: "asset-[hash]",
    outdir: out,
    metafile: true,
    external: ["/static/build/*"],
    define: { PYODIDE_PATH: JSON.stringify(`/static/build/${pyodideDir}/`) },
    logLevel: "warning",
  });
  const manifest = { pyodide: `${pyodideDir}/`, assets: [] };
  for (const [file, info] of Object.entries(result.metafile.outputs)) {
    const name = rel(path.resolve(file));
    manifest.assets.push(name);
    if (!info.entryPoint) continue;
    const entry = path.basename(info.entryPoint);
    if (entry === "app.js") manifest["app.js"] = name;
    else if (entry === "app.css") manifest["app.css"] = name;
    else if (entry === "run-worker.js") manifest["run-worker.js"] = name;
  }
  step(`bundled ${manifest.assets.length} files`);

  // The Pyodide runtime, copied unmodified from the npm package into a versioned folder.
  fs.mkdirSync(path.join(out, pyodideDir));
  for (const name of PYODIDE_FILES) {
    fs.copyFileSync(
      path.join(here, "node_modules/pyodide", name),
      path.join(out, pyodideDir, name),
    );
  }
  step(`copied Pyodide ${pyodideVersion}`);

  // The service worker: a fixed URL (/sw.js) so it can control the whole origin; the
  // version string changes whenever any asset does, which replaces the old cache.
  const version = createHash("sha256")
    .update(manifest.assets.sort().join("\n"))
    .update(pyodideVersion)
    .digest("hex")
    .slice(0, 16);
  await build({
    entryPoints: [path.join(here, "src/sw.js")],
    bundle: true,
    format: "iife",
    target: ["es2022"],
    minify: true,
    outfile: path.join(out, "sw.js"),
    define: {
      SW_VERSION: JSON.stringify(version),
      SW_PRECACHE: JSON.stringify(
        ["/", ...manifest.assets.filter((a) => !a.endsWith(".LEGAL.txt"))].map((a) =>
          a === "/" ? a : `/static/build/${a}`,
        ),
      ),
      SW_PYODIDE: JSON.stringify(`/static/build/${pyodideDir}/`),
    },
    logLevel: "warning",
  });
  manifest.version = version;
  fs.writeFileSync(path.join(out, "manifest.json"), JSON.stringify(manifest, null, 2));
  compressAll(out);
  const old = `${final}.old`;
  fs.rmSync(old, { recursive: true, force: true });
  if (fs.existsSync(final)) fs.renameSync(final, old);
  fs.renameSync(out, final);
  fs.rmSync(old, { recursive: true, force: true });
  step(`done: ${final}`);
}

function compressAll(dir) {
  let count = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !COMPRESSIBLE.test(entry.name)) continue;
    const file = path.join(entry.parentPath ?? entry.path, entry.name);
    const data = fs.readFileSync(file);
    fs.writeFileSync(`${file}.gz`, zlib.gzipSync(data, { level: 9 }));
    const big = data.length > 1_000_000;
    fs.writeFileSync(
      `${file}.br`,
      zlib.brotliCompressSync(data, {
        params: {
          [zlib.constants.BROTLI_PARAM_QUALITY]: big ? 9 : 11,
          [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length,
        },
      }),
    );
    count += 1;
  }
  step(`compressed ${count} files (gzip + brotli)`);
}

await bundle();
if (watch) {
  step("watching src/ (Ctrl-C to stop)");
  let timer = null;
  fs.watch(path.join(here, "src"), { recursive: true }, () => {
    clearTimeout(timer);
    timer = setTimeout(() => bundle().catch((e) => console.error(e)), 200);
  });
}
