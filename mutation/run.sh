#!/usr/bin/env bash
# A bounded cosmic-ray run over one target of mutation/targets/ (see docs/mutation.md).
#
#   mutation/run.sh TARGET [SECONDS]      e.g. mutation/run.sh decoder 1800
#
# cosmic-ray edits the module it mutates in place, so the run works on a copy of the work tree
# (tracked and untracked files) in a temporary folder; the work tree is never touched. The
# baseline (no mutation) must pass first. After SECONDS (default 1800) the run stops where it
# is; what was done is reported, the rest shown as pending. The session is kept in
# mutation/out/TARGET.sqlite and the report in mutation/out/TARGET.txt (both ignored by git).
set -euo pipefail
target=${1:?usage: mutation/run.sh TARGET [SECONDS] (TARGET: a file name in mutation/targets/)}
limit=${2:-1800}
root=$(cd "$(dirname "$0")/.." && pwd)
config="mutation/targets/$target.toml"
[[ -f "$root/$config" ]] || { echo "no such target: $root/$config" >&2; exit 2; }
python=${PYTHON:-python}
bin=$("$python" -c 'import os, sys; print(os.path.dirname(sys.executable))')
[[ -x "$bin/cosmic-ray" ]] || { echo "cosmic-ray is not installed: pip install -e '.[mutation]'" >&2; exit 2; }

work=$(mktemp -d -t "mutation-$target-XXXX")
trap 'rm -rf "$work"' EXIT
(cd "$root" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$work")
out="$root/mutation/out"
mkdir -p "$out"
cd "$work"
echo "working copy: $work (session.sqlite there while it runs)" >&2
export PYTHONPATH="$work"
export PATH="$bin:$PATH"  # the test command's `python` is this one

echo "baseline: the covering tests, unmutated" >&2
"$bin/cosmic-ray" baseline "$config" >&2
"$bin/cosmic-ray" init "$config" session.sqlite
"$bin/cr-filter-operators" session.sqlite "$config"
echo "mutating for at most ${limit}s" >&2
status=0
timeout "$limit" "$bin/cosmic-ray" exec "$config" session.sqlite || status=$?
[[ $status -eq 0 || $status -eq 124 ]] || exit "$status"
cp session.sqlite "$out/$target.sqlite"
"$bin/cr-report" --show-pending --show-diff --surviving-only session.sqlite | tee "$out/$target.txt"
