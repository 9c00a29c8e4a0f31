#!/usr/bin/env bash
# Builds the artefacts a release of the origin kits publishes, into OUT (default dist/kits):
#   sessiongate-kit-core-X.tgz, sessiongate-express-X.tgz, sessiongate-next-X.tgz   (npm pack)
#   sessiongate_django-X-py3-none-any.whl, sessiongate_django-X.tar.gz               (python -m build)
#   sessiongate-rack-X.gem                                                           (gem build)
# The Express and Next.js tarballs carry the kit core inside (src/core/), so each installs
# alone: its only dependency is jose (and the framework, a peer). Python: the kits'
# virtualenv (.venv-kits, with `build`, from `make setup`) or PYTHON.
# Publishing is docs in kits/RELEASING.md; this script never publishes anything.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-dist/kits}")
python=${PYTHON:-.venv-kits/bin/python}
if ! "$python" -c 'import importlib.util as u, sys; sys.exit(not (u.find_spec("build.__main__") and u.find_spec("setuptools")))' 2>/dev/null; then
  echo "release.sh: $python has no \`build\` (run make setup, or set PYTHON to a Python with build and setuptools>=77)" >&2
  exit 1
fi
mkdir -p "$out"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

# npm: the kit's package.json, README, sources and the core, the import rewritten.
for kit in express next; do
  dir="$stage/$kit"
  mkdir -p "$dir/src/core"
  cp "kits/$kit/package.json" "kits/$kit/README.md" "$dir/"
  cp kits/$kit/src/*.js "$dir/src/"
  cp kits/core-js/src/*.js "$dir/src/core/"
  for f in "$dir"/src/*.js; do
    sed -i 's#"\.\./\.\./core-js/src/index\.js"; // vendored.*$#"./core/index.js";#' "$f"
  done
  if grep -rq 'core-js/src' "$dir/src"; then
    echo "release.sh: $kit still imports the repository's core" >&2
    exit 1
  fi
  (cd "$dir" && npm pack --silent --pack-destination "$out" >/dev/null)
done
(cd kits/core-js && npm pack --silent --pack-destination "$out" >/dev/null)

# Django: wheel and sdist, without build isolation (the virtualenv has the back end).
"$python" -m build --no-isolation --sdist --wheel --outdir "$out" kits/django >/dev/null 2>&1 || { "$python" -m build --no-isolation --outdir "$out" kits/django; exit 1; }
rm -rf kits/django/build kits/django/src/*.egg-info

# Rack: the gem.
(cd kits/rack && gem build --silent sessiongate-rack.gemspec -o "$out/sessiongate-rack-$(ruby -e 'print Gem::Specification.load("sessiongate-rack.gemspec").version').gem" >/dev/null)

ls -1 "$out"
