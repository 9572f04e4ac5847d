package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Stream is a bounded stream of requests to Gateway addresses on this
// machine: it stops after Max requests or Duration, whichever comes first.
type Stream struct {
	Name string
	// Addrs are host:port. Every worker starts on the first; a request that
	// gets no answer at all (refused, reset, timed out) is sent once more to
	// the next address, on a fresh connection, and that worker stays there.
	// With one address there is no retry.
	Addrs      []string
	Host, Path string
	Max        int
	Duration   time.Duration
	Workers    int
	// Pause between a worker's requests.
	Pause time.Duration
}

// Result is one request's outcome.
type Result struct {
	Start  time.Time
	Status int    // 0 when no answer came
	Pod    string // the echo server that answered a 200
	Err    string
}

// Figures are what a fault test reports for a stream.
type Figures struct {
	Name string
	// Sent counts requests; OK those answered 2xx; Failed those answered
	// with another status; Lost those with no answer, after the retry.
	Sent, OK, Failed, Lost int
	// Retried counts requests that got no answer from their first address
	// and were sent again to the next one.
	Retried  int
	Statuses map[int]int
	Pods     map[string]int
	// Errors are the distinct transport errors seen, with counts.
	Errors  map[string]int
	Results []Result
}

func (f Figures) String() string {
	var pods []string
	for p, n := range f.Pods {
		pods = append(pods, fmt.Sprintf("%s=%d", p, n))
	}
	sort.Strings(pods)
	s := fmt.Sprintf("%s: sent %d, ok %d, failed %d, lost %d, retried on the next address %d; statuses %v; answered by %s",
		f.Name, f.Sent, f.OK, f.Failed, f.Lost, f.Retried, f.Statuses, strings.Join(pods, " "))
	if len(f.Errors) > 0 {
		s += fmt.Sprintf("; transport errors %v", f.Errors)
	}
	return s
}

// Running is a stream in progress.
type Running struct {
	stop    context.CancelFunc
	done    chan struct{}
	sent    atomic.Int64
	figures Figures
}

// Sent is how many requests have been answered or lost so far.
func (r *Running) Sent() int { return int(r.sent.Load()) }

// AwaitSent waits until at least n requests are done or the stream ended.
func (r *Running) AwaitSent(n int) {
	for r.Sent() < n {
		select {
		case <-r.done:
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Start sends the stream in the background.
func (s Stream) Start() *Running {
	ctx, cancel := context.WithTimeout(context.Background(), s.Duration)
	r := &Running{stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.figures = s.run(ctx, &r.sent)
	}()
	return r
}

// Wait returns the figures once the stream has ended by itself.
func (r *Running) Wait() Figures {
	<-r.done
	r.stop()
	return r.figures
}

// Stop ends the stream now and returns its figures.
func (r *Running) Stop() Figures {
	r.stop()
	return r.Wait()
}

// Run sends the whole stream and returns its figures.
func (s Stream) Run() Figures { return s.Start().Wait() }

func (s Stream) run(ctx context.Context, progress *atomic.Int64) Figures {
	workers := max(s.Workers, 1)
	transport := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
		MaxIdleConnsPerHost: workers,
		DisableCompression:  true,
	}
	defer transport.CloseIdleConnections()
	hc := &http.Client{Transport: transport, Timeout: 5 * time.Second}
	budget := make(chan struct{}, s.Max)
	for range s.Max {
		budget <- struct{}{}
	}
	close(budget)

	var mu sync.Mutex
	f := Figures{Name: s.Name, Statuses: map[int]int{}, Pods: map[string]int{}, Errors: map[string]int{}}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			current := 0
			for range budget {
				if ctx.Err() != nil {
					return
				}
				res := Result{Start: time.Now()}
				status, pod, err := s.get(hc, s.Addrs[current])
				retried := false
				if err != nil && len(s.Addrs) > 1 {
					retried = true
					current = (current + 1) % len(s.Addrs)
					status, pod, err = s.get(hc, s.Addrs[current])
				}
				res.Status, res.Pod = status, pod
				mu.Lock()
				f.Sent++
				if retried {
					f.Retried++
				}
				switch {
				case err != nil:
					res.Err = err.Error()
					f.Lost++
					f.Errors[shortError(err)]++
				case status/100 == 2:
					f.OK++
				default:
					f.Failed++
				}
				if status != 0 {
					f.Statuses[status]++
				}
				if pod != "" {
					f.Pods[pod]++
				}
				f.Results = append(f.Results, res)
				mu.Unlock()
				progress.Add(1)
				select {
				case <-ctx.Done():
					return
				case <-time.After(s.Pause):
				}
			}
		}()
	}
	wg.Wait()
	sort.Slice(f.Results, func(i, j int) bool { return f.Results[i].Start.Before(f.Results[j].Start) })
	return f
}

// get sends one GET and returns the status and, for echo-basic's 200s, the
// Pod that answered.
func (s Stream) get(hc *http.Client, addr string) (int, string, error) {
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+s.Path, nil)
	if err != nil {
		return 0, "", err
	}
	req.Host = s.Host
	resp, err := hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, "", err
	}
	var echo struct{ Pod string }
	if resp.StatusCode == http.StatusOK && json.Unmarshal(body, &echo) == nil {
		return resp.StatusCode, echo.Pod, nil
	}
	return resp.StatusCode, "", nil
}

// shortError drops the changing parts (ports) of a transport error so
// that equal failures count together.
func shortError(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		return msg[i+2:]
	}
	return msg
}
