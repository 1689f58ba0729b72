# Sourced by the hack/ scripts: where builds and caches live, outside the clone so that a fresh
# clone on the same machine starts warm. A cold machine simply fills them.
export LIVESTREAM_CACHE=${LIVESTREAM_CACHE:-$HOME/.cache/livestream-operator}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$LIVESTREAM_CACHE/target}
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
