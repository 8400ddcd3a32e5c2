#!/usr/bin/env bash
# The package as a user gets it, on a machine without a compiler:
#  1. `npm pack` (prepack: a clean dist/ and this machine's prebuilt binary);
#  2. the tarball's file list: no tests, bench data or build leftovers;
#  3. `npm install` of the tarball into an empty directory, with a PATH that
#     holds node, npm and a shell but no compiler, make or python, so a source
#     build would fail: the install must use the prebuilt binary;
#  4. `npx uring doctor --json`: usable, and the addon it loaded is the prebuild;
#  5. scripts/tarball/consumer.ts compiled by tsc as ESM and as CommonJS
#     (moduleResolution node16) and run, and type-checked under bundler.
# Run after `npm ci` (tsc and @types/node come from this checkout).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
work=$(mktemp -d "${TMPDIR:-/tmp}/uring-tarball.XXXXXX")
trap 'rm -rf "$work"' EXIT
step() { printf '\ntarball: %s\n' "$*"; }

step "npm pack"
tgz=$(npm pack --pack-destination "$work" --silent | tail -n 1)
tgz="$work/$tgz"
tar tzf "$tgz" | sed 's|^package/||' | sort > "$work/files.txt"
unpacked=$(tar tvzf "$tgz" | awk '{ s += $3 } END { print s }')
echo "$(basename "$tgz"): $(stat -c %s "$tgz") bytes, $unpacked bytes unpacked, $(wc -l < "$work/files.txt") files"
node scripts/check-prebuilds.js
bad=$(grep -E '^(test|bench|examples|scripts|build|src|\.ci)/|^dist/(test|bench|examples)/|\.(log|tgz|tsbuildinfo)$|(^|/)\.gyp|\.o$' "$work/files.txt" || true)
if [ -n "$bad" ]; then
  echo "tarball: the package ships files it should not:" >&2
  echo "$bad" >&2
  exit 1
fi
tuple="$(node -p 'process.platform + "-" + process.arch')"
abi="$(node -p process.versions.modules)"
grep -E "^prebuilds/$tuple/uring\.abi$abi\.(glibc|musl)\.node$" "$work/files.txt" \
  || { echo "tarball: no prebuilt binary for $tuple, ABI $abi" >&2; exit 1; }
for f in package.json README.md binding.gyp native/uring.c native/pins.cc dist/src/index.js dist/src/index.d.ts docs/README.md; do
  grep -qx "$f" "$work/files.txt" || { echo "tarball: $f is missing" >&2; exit 1; }
done

# node, npm, npx and the shell tools npm's scripts use; nothing that builds.
bin="$work/bin"
mkdir -p "$bin"
for tool in node npm npx sh bash env cat ls mkdir rm cp mv chmod uname dirname basename sed grep; do
  path=$(command -v "$tool") && ln -s "$path" "$bin/$tool"
done
for tool in cc gcc g++ c++ make python3 python; do
  PATH="$bin" command -v "$tool" >/dev/null 2>&1 && { echo "tarball: $tool is on the restricted PATH" >&2; exit 1; }
done

step "npm install the tarball with PATH=$bin (no compiler, make or python)"
app="$work/app"
mkdir -p "$app"
cd "$app"
echo '{ "name": "app", "version": "1.0.0", "private": true }' > package.json
env -i HOME="$HOME" PATH="$bin" npm install --no-audit --no-fund --foreground-scripts "$tgz"
if [ -e node_modules/uring/build ]; then
  echo "tarball: the install built the addon from source (node_modules/uring/build exists)" >&2
  exit 1
fi

step "npx uring doctor --json"
env -i HOME="$HOME" PATH="$bin" npx uring doctor --json > doctor.json
PATH="$bin" node -e '
  const r = require("./doctor.json");
  console.log(JSON.stringify({ usable: r.usable, addon: r.addon, unavailable: r.unavailable }));
  if (r.addon?.kind !== "prebuild") throw new Error("doctor did not load the prebuilt binary");
  if (!r.usable) throw new Error("io_uring is not usable: " + r.unavailable?.message);
'

step "a consumer compiled by tsc: ESM and CommonJS (node16), bundler"
tsc="$repo/node_modules/typescript/bin/tsc"
types="$repo/node_modules/@types"
for flavour in esm cjs bundler; do
  mkdir -p "$app/$flavour"
  cp "$repo/scripts/tarball/consumer.ts" "$app/$flavour/"
  case $flavour in
    esm) type=module; options='"module": "node16", "moduleResolution": "node16"' ;;
    cjs) type=commonjs; options='"module": "node16", "moduleResolution": "node16"' ;;
    bundler) type=module; options='"module": "preserve", "moduleResolution": "bundler", "noEmit": true' ;;
  esac
  echo "{ \"type\": \"$type\" }" > "$app/$flavour/package.json"
  cat > "$app/$flavour/tsconfig.json" <<EOF
{ "compilerOptions": { $options, "target": "ES2022", "strict": true, "types": ["node"],
    "typeRoots": ["$types"], "skipLibCheck": true, "outDir": "out" }, "files": ["consumer.ts"] }
EOF
  (cd "$app/$flavour" && PATH="$bin" node "$tsc" -p . && echo "$flavour: tsc ok")
done
echo "hello from the tarball test $$" > "$app/data.txt"
for flavour in esm cjs; do
  (cd "$app/$flavour" && env -i HOME="$HOME" PATH="$bin" node out/consumer.js "$app/data.txt")
done
step "passed"
