# Sourced by the scripts: `quiet LOG cmd...` runs cmd with its output in LOG, shown on failure.
quiet() {
    local log=$1; shift
    if ! "$@" >"$log" 2>&1; then
        cat "$log" >&2
        echo "failed: $* (log: $log)" >&2
        return 1
    fi
}
