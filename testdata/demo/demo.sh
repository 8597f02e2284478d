#!/bin/sh
# The git-snap demo: a throwaway repository with config, uploads, a
# lockfile and an SQLite database; a known-good snapshot; something broken;
# one command to recover. Run it with `make demo` (which builds git-snap and
# puts it on PATH). It needs nothing but Go and git: the demo app's database
# tool (sqlitedemo/) uses the same pure-Go SQLite driver as git-snap.
set -eu

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
run()  { printf '$ %s\n' "$*"; "$@"; }

command -v git-snap >/dev/null || { echo "error: git-snap is not on PATH (run: make demo)" >&2; exit 1; }
src=$(cd "$(dirname "$0")" && pwd)
demo=$(mktemp -d "${TMPDIR:-/tmp}/git-snap-demo.XXXXXX")
tools=$(mktemp -d "${TMPDIR:-/tmp}/git-snap-demo-tools.XXXXXX")
trap 'rm -rf "$demo" "$tools"' EXIT
# Build the app's database tool before HOME changes, so Go's caches are used.
(cd "$src/sqlitedemo" && go build -o "$tools/sqlitedemo" .)
PATH="$tools:$PATH"
cd "$demo"
export GIT_CONFIG_NOSYSTEM=1 HOME="$demo/.home" GIT_AUTHOR_NAME=Demo GIT_AUTHOR_EMAIL=demo@example.com \
       GIT_COMMITTER_NAME=Demo GIT_COMMITTER_EMAIL=demo@example.com
mkdir -p "$HOME"

step "A small app: tracked code, an untracked .env, uploads, a lockfile and an SQLite database"
git init -q -b main .
mkdir -p config uploads var
sqlitedemo init var/app.db
printf 'port = 8080\nfeature_x = false\n' > config/app.toml
printf 'SECRET_KEY=s3cr3t\nDB_PASSWORD=hunter2\n' > .env && chmod 600 .env
printf 'avatar-bytes\n' > uploads/avatar.png
printf 'module demo\n' > go.mod && printf 'example.com/lib v1.2.3 h1:abc=\n' > go.sum
cat > check.sh <<'CHECK'
#!/bin/sh
# The app's own validation: config parses, secrets present, uploads intact,
# the database answers its queries. Reports every failure, not just the first.
ok=0
grep -q '^port = 8080$' config/app.toml || { echo "config/app.toml: port is not 8080"; ok=1; }
grep -q '^SECRET_KEY=' .env 2>/dev/null || { echo ".env: SECRET_KEY missing"; ok=1; }
test -s uploads/avatar.png || { echo "uploads/avatar.png missing"; ok=1; }
sqlitedemo check var/app.db || ok=1
[ "$ok" = 0 ] && echo "all good"
exit "$ok"
CHECK
chmod +x check.sh
cat > .gitsnap.toml <<'TOML'
[snapshot]
scopes = ["code", "config", "dependencies", "files", "database"]

[config]
paths = ["config/**", ".env"]

[[files]]
name = "uploads"
paths = ["uploads/**"]

[[database]]
name = "app"
driver = "sqlite"
path = "var/app.db"
schema_version = "SELECT max(version) FROM schema_migrations"

[[check]]
name = "app"
kind = "smoke"
run = "./check.sh"
timeout = "30s"
TOML
printf '.env\nuploads/\nvar/\n' > .gitignore
git add -A && git commit -qm "demo app"
run ls -la config .env uploads var
run ./check.sh

step "Validate and take a known-good snapshot"
run git snap create -m "demo: first known-good"
run git snap list

step "Something breaks: a table dropped, config edited, .env lost, an upload deleted"
run sqlitedemo break var/app.db
printf 'port = 9999\nfeature_x = true\n' > config/app.toml
rm .env uploads/avatar.png
if ./check.sh; then echo "unexpected: the check passed"; exit 1; else echo "(the check fails, as it should)"; fi

step "A broken state cannot become a snapshot"
if git snap create -m "broken"; then echo "unexpected: create succeeded"; exit 1; fi

step "See what a restore would do"
run git snap restore known-good --dry-run

step "Recover with one command"
start=$(date +%s%N 2>/dev/null || date +%s)
run git snap restore known-good --yes
end=$(date +%s%N 2>/dev/null || date +%s)

step "Validated again"
run ./check.sh
run ls -la .env var
ms=$(( (end - start) / 1000000 ))
printf '\nrestore took %s ms (safety snapshot, restore and validation included)\n' "$ms"
run git snap show known-good
