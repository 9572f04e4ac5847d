package node

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Pod networks are 10.244.<index>.0/24, one index per running agent, so
// several harnesses (parallel test packages) can run on one machine.
const (
	bridgePrefix = "tgbr"
	netnsPrefix  = "tgp"
	hostVethPfx  = "tgv"
	ownersDir    = "/run/tenantgate/net"
	maxIndex     = 250
)

// network is one agent's bridge and the pod sandboxes on it.
type network struct {
	index   int
	bridge  string
	gateway netip.Addr
	prefix  netip.Prefix
}

func ipCmd(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// newNetwork removes what dead agents left behind, then claims a free index
// by creating its bridge (link creation is atomic, so two agents cannot both
// win the same index).
func newNetwork() (*network, error) {
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("the node agent needs root to create network namespaces; run as root (sudo)")
	}
	if err := os.MkdirAll(ownersDir, 0o755); err != nil {
		return nil, err
	}
	ReapStaleNetworks()
	for i := 1; i <= maxIndex; i++ {
		n := &network{
			index:   i,
			bridge:  bridgePrefix + strconv.Itoa(i),
			gateway: netip.AddrFrom4([4]byte{10, 244, byte(i), 1}),
			prefix:  netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 244, byte(i), 0}), 24),
		}
		if ipCmd("link", "add", n.bridge, "type", "bridge") != nil {
			continue // taken by a live agent
		}
		if err := os.WriteFile(ownerFile(i), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
			n.teardown()
			return nil, err
		}
		if err := ipCmd("addr", "add", n.gateway.String()+"/24", "dev", n.bridge); err != nil {
			n.teardown()
			return nil, err
		}
		if err := ipCmd("link", "set", n.bridge, "up"); err != nil {
			n.teardown()
			return nil, err
		}
		return n, nil
	}
	return nil, fmt.Errorf("no free pod network index (all %d bridges %s* exist); delete stale ones with `ip link del`", maxIndex, bridgePrefix)
}

func ownerFile(index int) string { return filepath.Join(ownersDir, strconv.Itoa(index)) }

// ReapStaleNetworks deletes bridges, veths and namespaces whose owning agent
// process is gone (a harness killed with SIGKILL cannot clean up after itself).
func ReapStaleNetworks() {
	entries, _ := os.ReadDir(ownersDir)
	for _, e := range entries {
		index, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, _ := os.ReadFile(filepath.Join(ownersDir, e.Name()))
		pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
		if pid > 0 && syscall.Kill(pid, 0) == nil {
			continue
		}
		(&network{index: index, bridge: bridgePrefix + strconv.Itoa(index)}).teardown()
	}
}

// namespaces lists this network's pod namespaces.
func (n *network) namespaces() []string {
	entries, _ := os.ReadDir("/run/netns")
	var names []string
	prefix := fmt.Sprintf("%s%d-", netnsPrefix, n.index)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			names = append(names, e.Name())
		}
	}
	return names
}

// teardown removes every namespace and veth of this network and its bridge.
func (n *network) teardown() error {
	var first error
	for _, ns := range n.namespaces() {
		if err := ipCmd("netns", "delete", ns); err != nil && first == nil {
			first = err
		}
	}
	if err := ipCmd("link", "del", n.bridge); err != nil && first == nil && !strings.Contains(err.Error(), "Cannot find device") {
		first = err
	}
	os.Remove(ownerFile(n.index))
	return first
}

// sandbox is one Pod's network namespace.
type sandbox struct {
	netns string
	veth  string
	ip    netip.Addr
}

func (n *network) sandboxFor(slot int) sandbox {
	return sandbox{
		netns: fmt.Sprintf("%s%d-%d", netnsPrefix, n.index, slot),
		veth:  fmt.Sprintf("%s%d-%d", hostVethPfx, n.index, slot),
		ip:    netip.AddrFrom4([4]byte{10, 244, byte(n.index), byte(slot + 1)}),
	}
}

// create makes the namespace, a veth pair with one end on the bridge, and
// the Pod's eth0 with its address and a default route through the bridge.
func (n *network) create(s sandbox) error {
	peer := s.veth + "p"
	steps := [][]string{
		{"netns", "add", s.netns},
		{"link", "add", s.veth, "type", "veth", "peer", "name", peer},
		{"link", "set", peer, "netns", s.netns},
		{"link", "set", s.veth, "master", n.bridge, "up"},
		{"-n", s.netns, "link", "set", peer, "name", "eth0"},
		{"-n", s.netns, "addr", "add", s.ip.String() + "/24", "dev", "eth0"},
		{"-n", s.netns, "link", "set", "eth0", "up"},
		{"-n", s.netns, "link", "set", "lo", "up"},
		{"-n", s.netns, "route", "add", "default", "via", n.gateway.String()},
	}
	for _, step := range steps {
		if err := ipCmd(step...); err != nil {
			n.destroy(s)
			return err
		}
	}
	return nil
}

// destroy deletes the namespace; its veth end goes with it, taking the pair.
func (n *network) destroy(s sandbox) {
	_ = ipCmd("netns", "delete", s.netns)
	_ = ipCmd("link", "del", s.veth)
}
