#!/usr/bin/env bash
# Runs the workloads of docs/performance.md W1–W4 against the local cluster (deploy/local/cluster.sh) with the load
# generator in tools/Bench: each workload 3 times with clients straight to the silos and, when
# `cluster.sh status` lists a `gateway PID URL` line, 3 times through the gateway over wss. Then it prints,
# per workload and path, the median with min–max of every figure, read back from the JSON reports. Each path
# is warmed up first with short unrecorded W1s. Each W4 run starts on a freshly restarted cluster (its data
# kept), so the memory slope is not flattered by heap the earlier workloads left behind, and so does a path that
# follows W4. Through the gateway,
# W4 holds as many clients as the hard open-files limit allows (two descriptors each at the gateway), and says so.
#
# Usage: tools/Bench/run.sh [--quick] [--runs N] [--only w1,w2,...] [--paths direct,gateway]
#   --quick   a tiny version of everything (a smoke test of the generator, the cluster and this script)
#   --runs N  runs per workload and path (default 3)
#   --only    a subset of the workloads
#   --paths   a subset of the paths (default both; the gateway only when the cluster has one)
# Reports go to tools/Bench/results/<UTC time>/ (git-ignored). A cluster that is already running is used
# as it is (but restarted before each W4 run) and left running; one this script starts is stopped at the end.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cluster="$repo/deploy/local/cluster.sh"
say() { printf '[run.sh %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 2; }

quick=false
runs=3
only="w1,w2,w3,w4"
only_paths="direct,gateway"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=true ;;
    --runs) [ $# -ge 2 ] || die "--runs needs a number"; runs=$2; shift ;;
    --only) [ $# -ge 2 ] || die "--only needs a list"; only=$2; shift ;;
    --paths) [ $# -ge 2 ] || die "--paths needs a list"; only_paths=$2; shift ;;
    -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (try --help)" ;;
  esac
  shift
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "--runs expects a positive number, not '$runs'"

# Workload options: docs/performance.md's defaults, or tiny ones for --quick.
declare -A args
if $quick; then
  args[w1]="--clients 20 --duration 3 --warmup 1 --grace 3"
  args[w2]="--groups 2 --members 6 --duration 3 --warmup 1 --grace 3"
  args[w3]="--clients 20 --steps 50,100 --step-duration 2 --warmup 1 --grace 3"
  args[w4]="--clients 100 --chunks 4 --settle 1"
else
  args[w1]=""
  args[w2]=""
  args[w3]=""
  args[w4]=""
fi
workloads=()
for w in ${only//,/ }; do
  [ -n "${args[$w]+x}" ] || die "--only: unknown workload '$w' (w1, w2, w3, w4)"
  workloads+=("$w")
done

# Built into its own folder: building into Silo/bin/Release would overwrite the assemblies of silos that
# cluster.sh runs from there.
build="$repo/artifacts/bench-build"
say "building tools/Bench (Release) into $(realpath --relative-to="$repo" "$build")"
dotnet build "$repo/tools/Bench" -c Release --artifacts-path "$build" -nologo -v quiet 9>&- >/dev/null ||
  die "the build failed: dotnet build tools/Bench -c Release"
bench="$build/bin/Bench/release/Switchboard.Bench.dll"
[ -f "$bench" ] || die "the build did not produce $bench"

started_cluster=false
if bash "$cluster" status >/dev/null 2>&1; then
  say "the local cluster is already running: using it as it is (and leaving it running)"
else
  say "starting the local cluster: bash deploy/local/cluster.sh up"
  bash "$cluster" up
  started_cluster=true
fi
stop_cluster() {
  if $started_cluster; then
    say "stopping the cluster this script started: bash deploy/local/cluster.sh down"
    bash "$cluster" down || true
  fi
}
trap stop_cluster EXIT

status=$(bash "$cluster" status || true)
printf '%s\n' "$status" | sed 's/^/    /'
silos=$(awk '$1 ~ /^silo-/ && $2 != "-" { sub(/^http/, "ws", $3); printf "%s%s", sep, $3; sep = "," }' <<<"$status")
gateway=$(awk '$1 == "gateway" && $2 != "-" { sub(/^http/, "ws", $3); print $3 }' <<<"$status")
[ -n "$silos" ] || die "no running silo in 'cluster.sh status'"

paths=()
for p in ${only_paths//,/ }; do
  case "$p" in
    direct) paths+=(direct) ;;
    gateway)
      if [ -n "$gateway" ]; then
        paths+=(gateway)
        say "gateway found at $gateway: runs through it too"
      else
        say "the gateway is not available (no 'gateway PID URL' line in cluster.sh status): skipping the runs through it"
      fi
      ;;
    *) die "--paths: unknown path '$p' (direct, gateway)" ;;
  esac
done
((${#paths[@]} > 0)) || die "no path to run"

# The generator (only it: the servers run with defaults) completes socket operations on the epoll thread and
# does not spin idle thread-pool threads: about half its CPU per message on a shared 2-core machine. Each
# report lists these under generatorEnvironment.
generator_env=(DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0)

results="$here/results/$(date -u +%Y%m%d-%H%M%S)$($quick && echo -quick || true)"
mkdir -p "$results"
say "reports go to $(realpath --relative-to="$repo" "$results")/; load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
failures=0
for path in "${paths[@]}"; do
  if [ "$path" = direct ]; then
    targets=(--targets "$silos")
  else
    targets=(--targets "$gateway" --insecure)
  fi
  # A process the cluster just started still runs unoptimised (tier-0) code for its first tens of seconds, and
  # after a restart MariaDB's buffer pool is cold while every user grain reads its list of conversations (at most
  # 4 per silo at a time, which takes a minute or two): short W1s, not recorded, until one is clean with a p99 of
  # at most 50 ms (a settled cluster reads 4-10 ms). docs/performance.md's own 5 s warm-up before each window stays as it
  # is. The grace is long: a cold warm-up's last messages can still be on their way when it ends, and would reach
  # the next run's clients (the same user ids) as foreign frames.
  # A path that follows W4 starts on a restarted cluster, as the first one did: W4 leaves 10,000 users' grains
  # activated, its connect bursts' heap, and a MariaDB restarted before its last run (measured: the gateway path's
  # W1 after the direct W4s read 1.22 cores and p99 12 ms, on a restarted cluster 0.98-1.06 and 4.9-8.8).
  if [ "$path" != "${paths[0]}" ] && [[ " ${workloads[*]} " == *" w4 "* ]] && ! $quick; then
    say "restarting the cluster before the $path path (cluster.sh down; up): W4 ran on the path before"
    bash "$cluster" down >/dev/null || die "cluster.sh down failed before the $path path"
    bash "$cluster" up >/dev/null || die "cluster.sh up failed before the $path path (see deploy/local/.data/logs/)"
  fi
  warm=false
  for ((attempt = 1; attempt <= 8; attempt++)); do
    say "warming up the $path path: a short W1, not recorded (attempt $attempt of 8: until clean with p99 <= 50 ms)"
    if env "${generator_env[@]}" dotnet "$bench" w1 "${targets[@]}" --discover --duration 15 --warmup 5 --grace 15 --max-p99 50 \
      ${args[w1]:+${args[w1]}} >/dev/null 2>&1; then
      warm=true
      break
    fi
  done
  $warm && say "the $path path is warm" || say "the $path path did not settle in 8 warm-ups; measuring anyway"
  for w in "${workloads[@]}"; do
    for ((run = 1; run <= runs; run++)); do
      out="$results/$w-$path-$run.json"
      read -r -a options <<<"${args[$w]}"
      # W4 measures what each connection adds to a silo's memory: on silos that just ran W1–W3 the heap already
      # has room, and the slope reads low (about 15 instead of 25 KiB). Each W4 run starts on a restarted cluster
      # (data kept).
      if [ "$w" = w4 ] && ! $quick; then
        say "w4 $path, run $run of $runs: restarting the cluster first so the silos start from a fresh heap (cluster.sh down; up)"
        bash "$cluster" down >/dev/null || die "cluster.sh down failed before w4"
        bash "$cluster" up >/dev/null || die "cluster.sh up failed before w4 (see deploy/local/.data/logs/)"
      fi
      # Through the gateway each idle client costs the gateway two descriptors (client and silo side): where the
      # hard open-files limit cannot hold 2 × 10,000, W4 there runs with as many clients as it can (said so).
      if [ "$w" = w4 ] && [ "$path" = gateway ] && ! $quick; then
        limit=$(ulimit -Hn)
        if [ "$limit" != unlimited ] && ((limit < 21000)); then
          fit=$(((limit - 1000) / 2 / 1000 * 1000))
          say "w4 gateway: the hard open-files limit is $limit, so $fit clients instead of 10,000 (2 descriptors each at the gateway)"
          options+=(--clients "$fit")
        fi
      fi
      cmd=(env "${generator_env[@]}" dotnet "$bench" "$w" "${targets[@]}" --discover ${options[@]+"${options[@]}"} --label "$path run $run of $runs" --out "$out")
      say "$w $path, run $run of $runs: ${cmd[*]//"$repo/"/}"
      if ! "${cmd[@]}"; then
        failures=$((failures + 1))
        say "$w $path run $run reported problems (see above and $(basename "$out"))"
      fi
    done
  done
done

say "summary over the runs (median [min–max]); reports in $(realpath --relative-to="$repo" "$results")/"
dotnet "$bench" summary "$results"/*.json
if ((failures > 0)); then
  say "$failures run(s) reported problems"
  exit 1
fi
say "all runs clean"
