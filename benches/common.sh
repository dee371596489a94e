# Shared by the benchmark scripts (source it): a scratch folder and the servers' pids, removed
# and killed on exit; installing a missing Debian package; a process's CPU ticks; a median.

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

need_pkg() { # need_pkg COMMAND PACKAGE: installs PACKAGE if COMMAND is missing
    command -v "$1" >/dev/null 2>&1 && return 0
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    echo "installing $2" >&2
    $sudo apt-get install -y -qq "$2" >/dev/null 2>&1 ||
        { $sudo apt-get update -qq >/dev/null && $sudo apt-get install -y -qq "$2" >/dev/null; }
}

cpu_ticks() { # cpu_ticks PID: user + system clock ticks the process has used
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}
TICK_US=$((1000000 / $(getconf CLK_TCK)))

median() { # the median of the numbers on stdin, one a line
    sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
