# Sourced by the benchmark scripts: `synthetic_library N DIR` makes a
# library of N synthetic videos in DIR (`cargo bench --bench library --
# --make`) unless DIR exists already.
synthetic_library() {
  local n=$1 dir=$2
  [ -d "$dir" ] && return
  cargo build --profile dist --quiet --bench library
  "$(ls -t target/dist/deps/library-* | grep -v '\.d$' | head -1)" --make "$dir" "$n"
}
