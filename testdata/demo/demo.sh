#!/bin/sh
# The git-snap demo: a throwaway repository with config, uploads and a
# lockfile; a known-good snapshot; something broken; one command to recover.
# Run it with `make demo` (which builds git-snap and puts it on PATH).
set -eu

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
run()  { printf '$ %s\n' "$*"; "$@"; }

command -v git-snap >/dev/null || { echo "error: git-snap is not on PATH (run: make demo)" >&2; exit 1; }
demo=$(mktemp -d "${TMPDIR:-/tmp}/git-snap-demo.XXXXXX")
trap 'rm -rf "$demo"' EXIT
cd "$demo"
export GIT_CONFIG_NOSYSTEM=1 HOME="$demo/.home" GIT_AUTHOR_NAME=Demo GIT_AUTHOR_EMAIL=demo@example.com \
       GIT_COMMITTER_NAME=Demo GIT_COMMITTER_EMAIL=demo@example.com
mkdir -p "$HOME"

step "A small app: tracked code, an untracked .env, uploads and a lockfile"
git init -q -b main .
mkdir -p config uploads
printf 'port = 8080\nfeature_x = false\n' > config/app.toml
printf 'SECRET_KEY=s3cr3t\nDB_PASSWORD=hunter2\n' > .env && chmod 600 .env
printf 'avatar-bytes\n' > uploads/avatar.png
printf 'module demo\n' > go.mod && printf 'example.com/lib v1.2.3 h1:abc=\n' > go.sum
cat > check.sh <<'CHECK'
#!/bin/sh
# The app's own validation: config parses, secrets present, uploads intact.
grep -q '^port = 8080$' config/app.toml || { echo "config/app.toml: port is not 8080"; exit 1; }
grep -q '^SECRET_KEY=' .env || { echo ".env: SECRET_KEY missing"; exit 1; }
test -s uploads/avatar.png || { echo "uploads/avatar.png missing"; exit 1; }
echo "all good"
CHECK
chmod +x check.sh
cat > .gitsnap.toml <<'TOML'
[snapshot]
scopes = ["code", "config", "dependencies", "files"]

[config]
paths = ["config/**", ".env"]

[[files]]
name = "uploads"
paths = ["uploads/**"]

[[check]]
name = "app"
kind = "smoke"
run = "./check.sh"
timeout = "30s"
TOML
printf '.env\nuploads/\n' > .gitignore
git add -A && git commit -qm "demo app"
run ls -la config .env uploads

step "Validate and take a known-good snapshot"
run git snap create -m "demo: first known-good"
run git snap list

step "Something breaks: config edited, .env lost, an upload deleted"
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
run ls -la .env
ms=$(( (end - start) / 1000000 ))
printf '\nrestore took %s ms (safety snapshot, restore and validation included)\n' "$ms"
run git snap show known-good
