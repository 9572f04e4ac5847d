//go:build race

package proxy

// raceDetector: the race detector's shadow memory multiplies the process's
// RSS, so a test that budgets RSS measures nothing under it.
const raceDetector = true
