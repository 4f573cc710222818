#!/usr/bin/env bash
# Packs a benchmark so it runs on a machine with a GPU and no network, where Node.js may be missing.
#
#   benchmarks/gpu-remote/pack.sh <entry.mjs> [<out dir>]      (out dir: <repo>/.gpu)
#
#   e.g.  pnpm turbo run build --filter=@ml/benchmarks...       # the bundle takes the built dist/
#         benchmarks/gpu-remote/pack.sh benchmarks/gpu-webgpu/run.mjs
#
# It writes into the out dir (keep it out of git: `echo /.gpu/ >> .git/info/exclude`):
#   node.xz                    the Node.js binary running this script, xz-compressed (~99 MB -> ~25 MB)
#   <name>.mjs                 the entry and every JS dependency in one ESM file; <name> is the entry's
#                              folder (benchmarks/gpu-webgpu/run.mjs -> gpu-webgpu.mjs, benchmarks/nn/run.mjs
#                              -> nn.mjs). Several entries can be packed into one out dir, one call each.
#   node_modules/webgpu/       the `webgpu` package (Dawn for Node), kept out of the bundle since it is
#                              native: index.js, package.json and dist/linux-x64/dawn.node.xz only
#   probe.mjs                  prints the WebGPU adapter Dawn picks; exits 1 when it is a software
#                              renderer (SwiftShader, llvmpipe) or there is none, 0 on a real GPU
#   unpack.sh                  `sh unpack.sh [<dir>]` unpacks all of the above into <dir> (default
#                              /tmp/gpu): decompresses node and dawn.node (xz, else python3's lzma)
#   MANIFEST                   what was packed: commit, versions, sizes
#
# The bundle records the packed commit and the packages' versions (benchmarks/common/machine.mjs'
# gitCommit and packageVersion cannot look them up once bundled), so the results still say what
# they measured.
#
# On the GPU machine (x86-64 Linux; the out dir travels with the working tree; ~37 MB for one entry):
#   # Vulkan: Dawn needs libvulkan.so.1 and the NVIDIA driver's Vulkan ICD. Where `ldconfig -p | grep
#   # libvulkan` prints nothing, bring Debian's libvulkan1 .deb and unpack it: dpkg -x <deb> /; ldconfig
#   sh .gpu/unpack.sh /tmp/gpu
#   /tmp/gpu/node /tmp/gpu/probe.mjs || export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
#   /tmp/gpu/node /tmp/gpu/probe.mjs && cd /tmp/gpu && ./node --expose-gc gpu-webgpu.mjs --out /somewhere/x.json
# (when no /dev/dri or /dev/nvidia0 exists and Chromium's SwiftShader is installed, the benchmark and
# @ml/gpu-webgpu pick SwiftShader; that is how to try a pack on a machine without a GPU first.)
set -euo pipefail

entry=${1:?usage: pack.sh <entry.mjs> [<out dir>]}
repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
out=${2:-$repo/.gpu}
entry=$(realpath "$entry")
[ -f "$entry" ] || { echo "pack.sh: no such entry: $entry" >&2; exit 2; }
name=$(basename "$(dirname "$entry")")
mkdir -p "$out/node_modules/webgpu/dist/linux-x64"
out=$(realpath "$out")

[ "$(uname -m)" = x86_64 ] || { echo "pack.sh: the GPU machine is x86-64; pack on an x86-64 machine (this is $(uname -m))" >&2; exit 2; }

# --- Node.js: compressed once, kept while the same binary is in use ----------------------------------
node_bin=$(realpath "$(command -v node)")
node_id="$(node --version) $(stat -c '%s %Y' "$node_bin")"
if [ ! -f "$out/node.xz" ] || [ "$(cat "$out/node.id" 2>/dev/null)" != "$node_id" ]; then
  echo "pack.sh: compressing $node_bin ($(node --version)); about a minute" >&2
  xz -9 -T0 -c "$node_bin" > "$out/node.xz.tmp" && mv "$out/node.xz.tmp" "$out/node.xz"
  echo "$node_id" > "$out/node.id"
fi

# --- the webgpu package (Dawn): linux-x64 only ------------------------------------------------------
webgpu=$(cd "$repo/benchmarks" && node --input-type=module -e "
  import { dirname } from 'node:path'; import { fileURLToPath } from 'node:url';
  process.stdout.write(dirname(fileURLToPath(import.meta.resolve('webgpu'))))")
cp "$webgpu/index.js" "$webgpu/package.json" "$webgpu/LICENSE.md" "$out/node_modules/webgpu/"
dawn="$webgpu/dist/linux-x64/dawn.node"
dawn_id=$(stat -c '%s %Y' "$dawn")
if [ ! -f "$out/node_modules/webgpu/dist/linux-x64/dawn.node.xz" ] || [ "$(cat "$out/dawn.id" 2>/dev/null)" != "$dawn_id" ]; then
  xz -9 -T0 -c "$dawn" > "$out/node_modules/webgpu/dist/linux-x64/dawn.node.xz"
  echo "$dawn_id" > "$out/dawn.id"
fi

# --- the bundle ------------------------------------------------------------------------------------------
rolldown=$(ls -d "$repo"/node_modules/.pnpm/rolldown@*/node_modules/rolldown 2>/dev/null | sort -V | tail -1)
[ -n "$rolldown" ] || { echo "pack.sh: rolldown not found under node_modules/.pnpm (pnpm install)" >&2; exit 2; }
commit=$(git -C "$repo" rev-parse --short HEAD)
git -C "$repo" diff --quiet HEAD -- packages benchmarks ':!*.md' || commit="$commit+local-changes"

ROLLDOWN="$rolldown/dist/index.mjs" ENTRY="$entry" OUTFILE="$out/$name.mjs" COMMIT="$commit" \
  node --input-type=module <<'EOF'
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
const { rolldown } = await import(pathToFileURL(process.env.ROLLDOWN).href);

// name -> version of every package the bundle takes in, for packageVersion() at run time
const versions = {};
const ownerOf = (file) => {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      const pkg = JSON.parse(readFileSync(p, 'utf8'));
      if (pkg.name && pkg.version) return pkg;
    }
  }
  return null;
};
const record = {
  name: 'record-versions',
  async resolveId(source, importer, options) {
    if (!importer || /^[./]|^node:/.test(source)) return null;
    const r = await this.resolve(source, importer, { ...options, skipSelf: true });
    if (r && !r.external) {
      const pkg = ownerOf(r.id);
      if (pkg) versions[pkg.name] = pkg.version;
    }
    return r;
  },
  // benchmarks/common/machine.mjs finds versions through import.meta.resolve and the commit
  // through git: neither works in a bundle on another machine, so both are recorded here.
  transform(code) {
    let c = code;
    c = c.replace(/export function packageVersion\((\w+)\) \{/, (m, a) => `${m}\n  if (globalThis.__packed && ${a} in globalThis.__packed.versions) return globalThis.__packed.versions[${a}];`);
    c = c.replace(/export function gitCommit\(\) \{/, (m) => `${m}\n  if (globalThis.__packed) return globalThis.__packed.commit;`);
    return c === code ? null : { code: c, map: null };
  },
};

const bundle = await rolldown({
  input: process.env.ENTRY,
  platform: 'node',
  external: [/^webgpu$/, /^node:/],
  plugins: [record],
  logLevel: 'warn',
  onLog(level, log) {
    // optional dependencies that are never loaded in Node (node-fetch, a browser's fs shim ...)
    if (log.code === 'UNRESOLVED_IMPORT') { console.error(`pack.sh: left unresolved (imported at run time only if used): ${log.message}`); return; }
    if (log.code === 'EVAL' || log.code === 'CIRCULAR_DEPENDENCY') return;
    console.error(`pack.sh: ${level}: ${log.message}`);
  },
});
await bundle.write({
  file: process.env.OUTFILE,
  format: 'esm',
  codeSplitting: false,
  sourcemap: false,
  intro: () => `globalThis.__packed = ${JSON.stringify({ commit: process.env.COMMIT, versions })};`,
});
console.error(`pack.sh: bundled ${Object.keys(versions).length} packages: ${Object.entries(versions).map(([k, v]) => `${k}@${v}`).join(', ')}`);
EOF

# --- probe.mjs, unpack.sh, MANIFEST -------------------------------------------------------------------
cat > "$out/probe.mjs" <<'EOF'
// Prints the WebGPU adapter Dawn picks; exit 1 for a software renderer or none, 0 for a real GPU.
import { existsSync, readdirSync } from 'node:fs';
const env = ['VK_ICD_FILENAMES', 'VK_DRIVER_FILES'].filter((k) => process.env[k]).map((k) => `${k}=${process.env[k]}`);
console.log(`node ${process.version}; device nodes: ${['/dev/dri', '/dev/kfd', ...(existsSync('/dev') ? readdirSync('/dev').filter((f) => /^nvidia/.test(f)).map((f) => '/dev/' + f) : [])].filter(existsSync).join(' ') || 'none'}; ${env.join(' ') || 'no VK_* driver variable'}`);
const { create, globals } = await import('./node_modules/webgpu/index.js');
Object.assign(globalThis, globals);
const gpu = create([]);
const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
if (!adapter) { console.log('no WebGPU adapter'); process.exit(1); }
const i = adapter.info ?? {};
const name = [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' ');
const software = Boolean(adapter.isFallbackAdapter ?? i.isFallbackAdapter) || /swiftshader|llvmpipe|lavapipe|softpipe|software/i.test(name);
const l = adapter.limits;
console.log(`adapter: ${name}${software ? ' (SOFTWARE)' : ''}`);
console.log(`  limits: maxStorageBufferBindingSize ${l.maxStorageBufferBindingSize}, maxBufferSize ${l.maxBufferSize}, maxComputeWorkgroupStorageSize ${l.maxComputeWorkgroupStorageSize}, maxComputeInvocationsPerWorkgroup ${l.maxComputeInvocationsPerWorkgroup}`);
console.log(`  features: ${[...adapter.features].sort().join(' ')}`);
process.exit(software ? 1 : 0);
EOF

cat > "$out/unpack.sh" <<'EOF'
#!/bin/sh
# sh unpack.sh [<dir>]: unpacks this folder into <dir> (default /tmp/gpu), ready to run there.
set -e
src=$(cd "$(dirname "$0")" && pwd)
dst=${1:-/tmp/gpu}
mkdir -p "$dst/node_modules/webgpu/dist/linux-x64"
unxz_to() { # <file.xz> <dest>
  if command -v xz >/dev/null 2>&1; then xz -dc "$1" > "$2"
  else python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"; fi
}
unxz_to "$src/node.xz" "$dst/node"; chmod +x "$dst/node"
cp "$src"/*.mjs "$dst/"
cp "$src"/node_modules/webgpu/*.js "$src"/node_modules/webgpu/*.json "$dst/node_modules/webgpu/"
unxz_to "$src/node_modules/webgpu/dist/linux-x64/dawn.node.xz" "$dst/node_modules/webgpu/dist/linux-x64/dawn.node"
echo "unpacked into $dst: node $("$dst/node" --version), $(cd "$dst" && ls *.mjs | tr '\n' ' ')"
EOF

{
  echo "packed $(date -u +%FT%TZ) from commit $commit"
  echo "node $(node --version) ($node_bin)"
  (cd "$out" && find . -type f ! -name '*.id' ! -name MANIFEST -printf '%s\t%p\n' | sort -k2)
  echo "total $(du -sb --exclude='*.id' "$out" | cut -f1) bytes"
} > "$out/MANIFEST"
cat "$out/MANIFEST" >&2
