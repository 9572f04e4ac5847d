package node

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// prober counts one probe's consecutive results, as kubelet's prober does:
// a verdict flips only after successThreshold successes or failureThreshold
// failures in a row, and the probe runs every periodSeconds once
// initialDelaySeconds have passed since the container started.
type prober struct {
	spec                *corev1.Probe
	last                time.Time
	successes, failures int32
}

// due says whether the probe should run now.
func (p *prober) due(started, now time.Time) bool {
	if now.Sub(started) < time.Duration(p.spec.InitialDelaySeconds)*time.Second {
		return false
	}
	return p.last.IsZero() || now.Sub(p.last) >= seconds(p.spec.PeriodSeconds, 10)
}

// record takes one result and returns the verdict, given the current one.
func (p *prober) record(now time.Time, ok, current bool) bool {
	p.last = now
	if ok {
		p.failures, p.successes = 0, p.successes+1
		if !current && p.successes >= max(p.spec.SuccessThreshold, 1) {
			return true
		}
		return current
	}
	p.successes, p.failures = 0, p.failures+1
	if current && p.failures >= threshold(p.spec.FailureThreshold) {
		return false
	}
	return current
}

func threshold(n int32) int32 {
	if n <= 0 {
		return 3 // the API's default
	}
	return n
}

func seconds(n, def int32) time.Duration {
	if n <= 0 {
		n = def
	}
	return time.Duration(n) * time.Second
}

// checkReadiness returns the container's readiness. With a readiness probe,
// an unready container is probed often (so endpoints appear quickly) and a
// ready one every periodSeconds. Without one, a container that declares a
// TCP port is ready once that port accepts connections (kubelet would say
// ready at once; waiting avoids publishing endpoints that refuse traffic).
func (rt *podRuntime) checkReadiness(ctx context.Context, c *containerRuntime) bool {
	p := c.spec.ReadinessProbe
	if p == nil {
		for _, port := range c.spec.Ports {
			if port.Protocol == "" || port.Protocol == corev1.ProtocolTCP {
				ctx, cancel := context.WithTimeout(ctx, time.Second)
				defer cancel()
				return dialable(ctx, rt.sandbox.ip.String(), int(port.ContainerPort))
			}
		}
		return true
	}
	now := time.Now()
	if c.ready && !c.readiness.due(c.started.Time, now) {
		return c.ready
	}
	if !c.ready && now.Sub(c.started.Time) < time.Duration(p.InitialDelaySeconds)*time.Second {
		return false
	}
	return c.readiness.record(now, rt.run(ctx, c, p), c.ready)
}

// checkLiveness runs the liveness probe when due and, once it has failed
// failureThreshold times in a row, stops the container so supervise
// restarts it. It reports whether it did.
func (rt *podRuntime) checkLiveness(ctx context.Context, c *containerRuntime) bool {
	p := c.spec.LivenessProbe
	now := time.Now()
	if p == nil || !c.liveness.due(c.started.Time, now) {
		return false
	}
	if c.liveness.record(now, rt.run(ctx, c, p), true) {
		return false
	}
	rt.agent.cfg.Log.Info("liveness probe failed; restarting the container", "pod", rt.key.String(), "container", c.spec.Name, "failures", c.liveness.failures)
	_ = c.process.Stop(2 * time.Second)
	return true
}

// run performs one HTTP GET or TCP probe against the Pod's address; exec
// and gRPC probes are not run by the local node and count as passing.
func (rt *podRuntime) run(ctx context.Context, c *containerRuntime, p *corev1.Probe) bool {
	ip := rt.sandbox.ip.String()
	ctx, cancel := context.WithTimeout(ctx, seconds(p.TimeoutSeconds, 1))
	defer cancel()
	switch {
	case p.HTTPGet != nil:
		scheme := "http"
		if strings.EqualFold(string(p.HTTPGet.Scheme), "https") {
			scheme = "https"
		}
		port := resolvePort(c.spec, p.HTTPGet.Port)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+net.JoinHostPort(ip, strconv.Itoa(port))+p.HTTPGet.Path, nil)
		if err != nil {
			return false
		}
		for _, h := range p.HTTPGet.HTTPHeaders {
			req.Header.Add(h.Name, h.Value)
		}
		resp, err := probeClient.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode >= 200 && resp.StatusCode < 400
	case p.TCPSocket != nil:
		return dialable(ctx, ip, resolvePort(c.spec, p.TCPSocket.Port))
	default:
		return true
	}
}

// probeClient, like kubelet's, does not verify HTTPS probe targets' certificates.
var probeClient = &http.Client{Transport: &http.Transport{
	TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // kubelet's probes do not verify either
	DisableKeepAlives: true,
}}

func resolvePort(c corev1.Container, port intstr.IntOrString) int {
	if port.Type == intstr.Int {
		return port.IntValue()
	}
	for _, p := range c.Ports {
		if p.Name == port.StrVal {
			return int(p.ContainerPort)
		}
	}
	return 0
}

func dialable(ctx context.Context, ip string, port int) bool {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// probePeriod is how long supervise sleeps: often while a container is
// unready, so endpoints appear quickly; else the shortest probe period, at
// most 2 s, so exits are noticed soon.
func probePeriod(cs []*containerRuntime) time.Duration {
	period := 2 * time.Second
	for _, c := range cs {
		if !c.ready {
			return 200 * time.Millisecond
		}
		for _, p := range []*corev1.Probe{c.spec.ReadinessProbe, c.spec.LivenessProbe} {
			if p != nil && p.PeriodSeconds > 0 {
				period = min(period, time.Duration(p.PeriodSeconds)*time.Second)
			}
		}
	}
	return period
}
