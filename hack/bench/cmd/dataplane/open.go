package main

import (
	"context"
	"fmt"
	"log"
	"net/url"
	"time"

	"github.com/tenantgate/tenantgate/hack/bench/internal/openloop"
	"github.com/tenantgate/tenantgate/hack/bench/results"
)

// openLoops offers each target, over HTTP, a fixed rate of o.openShare times
// its own median closed-loop maximum at the most connections, per body.
func openLoops(ctx context.Context, o options, closed []results.ClosedLoop) ([]results.OpenLoop, error) {
	conns := maxOf(o.conns)
	var runs []results.OpenLoop
	for bi, body := range []string{results.BodySmall, results.BodyLarge} {
		rates := map[string]float64{}
		for _, t := range o.targets {
			var rps []float64
			for _, c := range closed {
				if c.Target == t.name && c.Scheme == "http" && c.Body == body && c.Conns == conns {
					rps = append(rps, c.RequestsPerSec)
				}
			}
			rates[t.name] = o.openShare * results.Summarize(rps).Median
		}
		for rep := range o.reps {
			for _, t := range rotate(o.targets, rep+bi) {
				r, err := openLoop(ctx, o, t, body, rates[t.name])
				if err != nil {
					return nil, err
				}
				r.Rep = rep
				runs = append(runs, r)
			}
			log.Printf("open loop rep %d/%d: %s done", rep+1, o.reps, body)
		}
	}
	return runs, nil
}

func openLoop(ctx context.Context, o options, t target, body string, rate float64) (results.OpenLoop, error) {
	u, err := url.Parse(t.http)
	if err != nil {
		return results.OpenLoop{}, err
	}
	before, err := t.cpu()
	if err != nil {
		return results.OpenLoop{}, err
	}
	res, err := openloop.Run(ctx, openloop.Config{Addr: u.Host, Path: pathOf(body), Rate: rate, Duration: o.openDuration, Conns: o.openConns, Timeout: 10 * time.Second})
	if err != nil {
		return results.OpenLoop{}, fmt.Errorf("open loop against %s at %.0f/s: %w", t.name, rate, err)
	}
	after, err := t.cpu()
	if err != nil {
		return results.OpenLoop{}, err
	}
	l := res.Latencies
	return results.OpenLoop{
		Target: t.name, Body: body, Rate: rate,
		Achieved: float64(len(l)) / res.Elapsed.Seconds(),
		P50:      results.Percentile(l, 0.50), P99: results.Percentile(l, 0.99), P999: results.Percentile(l, 0.999),
		Max: results.Percentile(l, 1), Requests: len(l), Errors: res.Errors,
		CPUSeconds: after - before,
	}, nil
}
