# benchratio.awk: from `go test -bench` output, the speed ratio of each
# stock contrib implementation to this project's, for benchmarks that run
# both side by side as sub-benchmarks named impl=<name> (the first impl of a
# benchmark is this project's). Ratios are of mean ns/op and, where
# reported, of mean lines/cpu-s or records/cpu-s (throughput per core).
#   awk -f test/benchratio.awk bench.txt
/^Benchmark.*\/impl=/ {
	split($1, parts, "/impl=")
	name = parts[1]; impl = parts[2]; sub(/-[0-9]+$/, "", impl)
	key = name SUBSEP impl
	if (!(key in runs)) {
		if (!(name in first)) { first[name] = impl; names[++n] = name }
		impls[name] = impls[name] " " impl
	}
	runs[key]++
	for (i = 3; i < NF; i++) {
		unit = $(i + 1)
		if (unit == "ns/op" || unit ~ /\/cpu-s$/) { sum[key, unit] += $i; units[unit] = 1 }
	}
}
END {
	for (k = 1; k <= n; k++) {
		name = names[k]; ours = first[name]
		m = split(impls[name], list, " ")
		for (j = 1; j <= m; j++) {
			other = list[j]
			if (other == ours) continue
			for (unit in units) {
				a = sum[name, ours, unit] / runs[name SUBSEP ours]
				b = sum[name, other, unit] / runs[name SUBSEP other]
				if (a == 0 || b == 0) continue
				ratio = (unit == "ns/op") ? b / a : a / b
				printf "%s: %s is %.1fx %s (%s, mean of %d and %d runs)\n", name, ours, ratio, \
					"as fast as " other, unit, runs[name SUBSEP ours], runs[name SUBSEP other]
			}
		}
	}
}
