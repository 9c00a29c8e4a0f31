#!/usr/bin/env bash
# Tier 6 (issues 16, 28): the origin kits. Their native unit tests (Django's with the
# virtualenv `make setup` creates, Rack's with Debian's ruby), then, behind the real gate
# (tests/kits/, node:test): every kit's example application, the frameworks' own idioms
# (django.contrib.auth and the admin, a Rails 6.1 application, Next.js in Chromium), the
# refusal log, and each kit installed from its release artefact (kits/release.sh) into a
# fresh project outside the repository. Each runner prints its own summary, which
# scripts/test.sh adds up; the exit status is non-zero if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
if [ -d kits/django/tests ]; then
  echo "-- the Django kit's unit tests (unittest, .venv-kits)"
  .venv-kits/bin/python -m unittest discover -s kits/django/tests -t kits/django -v 2>&1 || status=1
fi
if [ -d kits/rack/test ]; then
  echo "-- the Rack kit's unit tests (minitest)"
  ruby -Ikits/rack/lib -e 'ARGV.each { |f| require File.expand_path(f) }' kits/rack/test/*_test.rb 2>&1 || status=1
fi
echo "-- every kit behind the real gate (node:test)"
node --test --test-concurrency=1 --test-reporter=spec tests/kits/ || status=1
exit $status
