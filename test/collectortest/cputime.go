package collectortest

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// CPUTime is the CPU time (user and system) this process has used, for
// benchmarks that report throughput per core.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Meter measures a benchmark's CPU time and the share of the machine's
// CPU time the hypervisor stole meanwhile. On a shared VM stolen time is
// charged to the benchmark's CPU time, so per-CPU-second figures are only
// comparable together with their steal-% (the same code measured ~2x apart
// at ~50% and ~0% steal).
type Meter struct {
	cpu          time.Duration
	steal, total uint64
}

// StartMeter starts measuring.
func StartMeter() Meter {
	steal, total := machineCPU()
	return Meter{cpu: CPUTime(), steal: steal, total: total}
}

// CPU is the CPU time used since the meter started.
func (m Meter) CPU() time.Duration { return CPUTime() - m.cpu }

// ReportSteal reports the steal share since the meter started as steal-%.
func (m Meter) ReportSteal(b *testing.B) {
	steal, total := machineCPU()
	if total > m.total {
		b.ReportMetric(100*float64(steal-m.steal)/float64(total-m.total), "steal-%")
	}
}

// machineCPU reads the steal and total jiffies of all CPUs from
// /proc/stat (zeros where there is none).
func machineCPU() (steal, total uint64) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	if !s.Scan() {
		return 0, 0
	}
	fields := strings.Fields(s.Text())
	if len(fields) < 9 || fields[0] != "cpu" {
		return 0, 0
	}
	for i, v := range fields[1:] {
		n, _ := strconv.ParseUint(v, 10, 64)
		total += n
		if i == 7 { // user nice system idle iowait irq softirq steal
			steal = n
		}
	}
	return steal, total
}
