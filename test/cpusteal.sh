#!/bin/sh
# cpusteal.sh prints the machine's CPU counters (steal and total jiffies,
# from /proc/stat), or, given an earlier print, the share of CPU time the
# hypervisor stole since then. make bench prints it with its figures: on a
# shared VM, stolen time inflates every per-CPU-second figure (session 3
# measured the same benchmarks ~2x apart at ~50% and ~0% steal).
set -eu
now() { awk '/^cpu /{t=0; for (i = 2; i <= NF; i++) t += $i; print $9, t; exit}' /proc/stat; }
if [ $# -eq 0 ]; then now; exit 0; fi
set -- $1 $(now)
awk -v s0="$1" -v t0="$2" -v s1="$3" -v t1="$4" 'BEGIN {
	d = t1 - t0; if (d <= 0) d = 1
	printf "cpu steal during the run: %.1f%% of the machine'"'"'s CPU time (figures per CPU-second are inflated by it)\n", 100 * (s1 - s0) / d
}'
