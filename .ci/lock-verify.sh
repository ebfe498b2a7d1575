#!/usr/bin/env bash
# Installs the lock as a user or an image build would, with each Python's own pip (never
# upgraded) in a fresh virtualenv: requirements.txt (what the Dockerfile installs), the
# project without its dependencies, `pip check`, `orders --help`, then requirements-dev.txt
# on top (what `make install` adds) and `pip check` again. No resolution, no download
# without a hash. Slow (a minute or two per Python): `make lock-verify`, not CI.
#   bash .ci/lock-verify.sh                      # python3.11, 3.12 and 3.13 (PATH, else pyenv)
#   bash .ci/lock-verify.sh /path/to/python ...  # these interpreters
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

pythons=("$@")
if [ ${#pythons[@]} -eq 0 ]; then
    for version in 3.11 3.12 3.13; do
        found=$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}/versions/$version".*/bin/python 2>/dev/null \
            | sort -V | tail -n 1)
        if "python$version" -c '' 2>/dev/null; then
            pythons+=("python$version")
        elif [ -n "$found" ]; then
            pythons+=("$found")
        else
            echo "python$version not found: skipped"
        fi
    done
fi
[ ${#pythons[@]} -gt 0 ] || { echo "no Python to verify with" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PIP_DISABLE_PIP_VERSION_CHECK=1

for i in "${!pythons[@]}"; do
    python=${pythons[$i]}
    venv="$work/venv$i"
    "$python" -m venv "$venv"
    pip=("$venv/bin/python" -m pip --quiet)
    echo "==> $("$venv/bin/python" --version), $("$venv/bin/python" -m pip --version | cut -d' ' -f1-2)"
    "${pip[@]}" install --require-hashes -r requirements.txt
    "${pip[@]}" install --no-deps --no-build-isolation -e .
    "$venv/bin/python" -m pip check
    "$venv/bin/orders" --help >/dev/null
    "${pip[@]}" install --require-hashes -r requirements-dev.txt
    "$venv/bin/python" -m pip check
done
echo "the lock installs with ${#pythons[@]} Python(s)"
