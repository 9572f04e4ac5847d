package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of /proc/PID/stat times: 100 on Linux.
const clockTicks = 100

// processTreeCPU is the user plus system CPU seconds that pid and its
// children (nginx's worker under its master) have used so far.
func processTreeCPU(pid int) (float64, error) {
	pids := []int{pid}
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, task := range tasks {
		children, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, task.Name()))
		for f := range strings.FieldsSeq(string(children)) {
			if child, err := strconv.Atoi(f); err == nil {
				pids = append(pids, child)
			}
		}
	}
	var ticks int64
	for _, p := range pids {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			return 0, fmt.Errorf("reading the CPU time of process %d (did it exit?): %w", p, err)
		}
		t, err := statTicks(string(stat))
		if err != nil {
			return 0, err
		}
		ticks += t
	}
	return float64(ticks) / clockTicks, nil
}

// statTicks reads utime plus stime from a /proc/PID/stat line. The command
// name may hold spaces and parentheses, so fields count from the last ')'.
func statTicks(stat string) (int64, error) {
	i := strings.LastIndexByte(stat, ')')
	f := strings.Fields(stat[i+1:])
	if i < 0 || len(f) < 13 {
		return 0, fmt.Errorf("/proc stat line %q is too short", stat)
	}
	// After ')': state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15).
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc stat line %q has no numeric utime and stime", stat)
	}
	return utime + stime, nil
}
