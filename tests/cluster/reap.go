package cluster

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/tenantgate/tenantgate/tests/cluster/node"
)

// ownersDir records, per running harness, the folders that identify the
// processes it started, so that the next harness can stop the processes of one
// that died without cleaning up (a panic or SIGKILL skips every defer).
const ownersDir = "/run/tenantgate/clusters"

type ownerRecord struct {
	PID int `json:"pid"`
	// Markers are paths that appear on the command line of every process
	// the harness started (etcd's data folder, the API server's certificates,
	// the state folder).
	Markers []string `json:"markers"`
}

func (c *Cluster) recordOwner() {
	markers := []string{c.Dir}
	if cp := c.Env.ControlPlane; cp.APIServer != nil && cp.APIServer.CertDir != "" {
		markers = append(markers, cp.APIServer.CertDir)
	}
	if cp := c.Env.ControlPlane; cp.Etcd != nil && cp.Etcd.DataDir != "" {
		markers = append(markers, cp.Etcd.DataDir)
	}
	data, _ := json.Marshal(ownerRecord{PID: os.Getpid(), Markers: markers})
	if os.MkdirAll(ownersDir, 0o755) == nil {
		_ = os.WriteFile(filepath.Join(ownersDir, strconv.Itoa(os.Getpid())+".json"), data, 0o644)
	}
}

func (c *Cluster) forgetOwner() {
	os.Remove(filepath.Join(ownersDir, strconv.Itoa(os.Getpid())+".json"))
}

// ReapDead stops what harnesses that died without cleaning up left behind:
// their control-plane processes and folders, and their pod networks (the
// Pods' processes die with them). Start calls it; tests call it to prove it.
func ReapDead() {
	reapDeadOwners()
	node.ReapStaleNetworks()
}

// reapDeadOwners kills the processes of harnesses that are no longer running
// and removes their folders.
func reapDeadOwners() {
	entries, _ := os.ReadDir(ownersDir)
	for _, e := range entries {
		path := filepath.Join(ownersDir, e.Name())
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		var rec ownerRecord
		if json.Unmarshal(data, &rec) != nil || rec.PID <= 0 || syscall.Kill(rec.PID, 0) == nil {
			continue
		}
		killMarked(rec.Markers)
		for _, m := range rec.Markers {
			if filepath.IsAbs(m) && len(m) > len("/tmp/") {
				os.RemoveAll(m)
			}
		}
		os.Remove(path)
	}
}

// killMarked sends SIGKILL to every process whose command line mentions one
// of the markers.
func killMarked(markers []string) {
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", p.Name(), "cmdline"))
		if err != nil {
			continue
		}
		for _, m := range markers {
			if m != "" && bytes.Contains(cmdline, []byte(m)) {
				syscall.Kill(pid, syscall.SIGKILL)
				break
			}
		}
	}
}
