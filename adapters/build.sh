#!/usr/bin/env bash
# Builds every adapter component (and the test suite's hostile ones) for wasm32-wasip2 and lays
# them out as target/adapters/<name>.wasm beside <name>.toml, the layout `serve` loads.
# Idempotent: cargo rebuilds only what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2; then
    rustup target add wasm32-wasip2
fi

# A target directory of its own, so this can run while another cargo holds target/.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR_WASM:-target/wasm}"
cargo build --profile adapter --target wasm32-wasip2 --quiet \
    -p mock-adapter -p hostile-adapter -p fs-reader-adapter -p broken-adapter -p cloudbeds-adapter -p opera-adapter -p mews-adapter

out=target/adapters
mkdir -p "$out"
built="$CARGO_TARGET_DIR/wasm32-wasip2/adapter"
# Test processes run this side by side (cargo-nextest: one process per test), and hosts may be
# loading these files: a file that is already current is left alone, and a changed one is
# replaced atomically through a temporary name of this process's own.
install_file() { # <source> <destination>
    cmp -s "$1" "$2" && return 0
    cp "$1" "$2.tmp.$$" && mv -f "$2.tmp.$$" "$2"
}
install_adapter() { # <wasm name> <manifest path>
    local name; name=$(basename "$2" .toml)
    install_file "$built/$1.wasm" "$out/$name.wasm"
    install_file "$2" "$out/$name.toml"
}
install_adapter mock adapters/mock/mock.toml
install_adapter hostile tests/adapters/hostile/hostile.toml
install_adapter hostile tests/adapters/hostile/hostile_oauth.toml
install_adapter fs_reader tests/adapters/fs-reader/fs_reader.toml
install_adapter broken tests/adapters/broken/broken.toml
install_adapter opera adapters/opera/opera.toml
install_adapter cloudbeds adapters/cloudbeds/cloudbeds.toml
install_adapter mews adapters/mews/mews.toml
echo "adapters in $out: $(cd "$out" && ls *.wasm | tr '\n' ' ')"
